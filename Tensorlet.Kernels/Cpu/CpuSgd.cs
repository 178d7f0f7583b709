namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One torch.optim.SGD step (PyTorch 1.13 _single_tensor_sgd) over float32 parameters, in place:
/// g += wd·p; with momentum μ, buf = g on the first step, else buf = μ·buf + (1 − dampening)·g, and
/// g = nesterov ? g + μ·buf : buf; then p −= lr·g. One loop over whole registers of the widest accelerated width,
/// then narrower ones, then single floats; every width does the same operations in the same order (no fused
/// multiply-add), so the result does not depend on the width.
/// </summary>
internal static unsafe class CpuSgd
{
    /// <summary>The update, split across threads for large parameter sets, at most <paramref name="width"/> wide.</summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> momentum, SgdCoefficients k, int threads, CpuVectorWidth width)
    {
        if (parameters.Length != gradients.Length || (k.Momentum != 0f && momentum.Length != parameters.Length))
        {
            throw new ArgumentException("parameters, gradients and the momentum buffer must have the same length.");
        }

        fixed (float* p = parameters, g = gradients, b = momentum)
        {
            CpuParallel.For(parameters.Length, CpuParallel.MinElementsPerChunk, threads, new StepChunk(p, g, b, k, width));
        }
    }

    /// <summary>Elements [start, start + count): the momentum buffer is read only when μ ≠ 0.</summary>
    private static void StepRange(float* parameters, float* gradients, float* buffer, long start, int count, in SgdCoefficients k, CpuVectorWidth width)
    {
        float* p = parameters + start, g = gradients + start, b = k.Momentum != 0f ? buffer + start : null;
        FloatLanesLoop.Run(new Update(p, g, b, k), count, width);
    }

    /// <summary>The update's pointers and coefficients, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct Update(float* parameters, float* gradients, float* buffer, SgdCoefficients k) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Registers<TLanes, TVector>(parameters, gradients, buffer, start, n, in k);
    }

    /// <summary>Updates elements [start, n) in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    private static int Registers<TLanes, TVector>(float* parameters, float* gradients, float* buffer, int start, int n, in SgdCoefficients k)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var learningRate = TLanes.Create(k.LearningRate);
        var momentum = TLanes.Create(k.Momentum);
        var oneMinusDampening = TLanes.Create(k.OneMinusDampening);
        var weightDecay = TLanes.Create(k.WeightDecay);
        bool decay = k.WeightDecay != 0f, hasMomentum = k.Momentum != 0f, first = k.FirstStep != 0, nesterov = k.Nesterov != 0;
        int i = start;
        for (; i + TLanes.Count <= n; i += TLanes.Count)
        {
            var p = TLanes.Load(parameters + i);
            var g = TLanes.Load(gradients + i);
            if (decay)
            {
                g = TLanes.Add(g, TLanes.Multiply(weightDecay, p));
            }

            if (hasMomentum)
            {
                var b = first ? g : TLanes.Add(TLanes.Multiply(momentum, TLanes.Load(buffer + i)), TLanes.Multiply(oneMinusDampening, g));
                TLanes.Store(b, buffer + i);
                g = nesterov ? TLanes.Add(g, TLanes.Multiply(momentum, b)) : b;
            }

            TLanes.Store(TLanes.Subtract(p, TLanes.Multiply(learningRate, g)), parameters + i);
        }

        return i;
    }

    private readonly struct StepChunk(float* parameters, float* gradients, float* buffer, SgdCoefficients k, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count) => StepRange(parameters, gradients, buffer, start, (int)count, in k, width);
    }
}
