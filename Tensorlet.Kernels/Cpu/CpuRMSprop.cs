namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One torch.optim.RMSprop step (PyTorch 1.13 _single_tensor_rmsprop) over float32 parameters, in place:
/// g += wd·p (if wd ≠ 0); s = α·s + (1−α)·g·g; centered, a = α·a + (1−α)·g and d = √max(s − a·a, 0) + ε, else
/// d = √s + ε; with momentum μ, b = μ·b + g/d and p −= lr·b, else p −= lr·g/d. One loop over whole registers of the
/// widest accelerated width, then narrower ones, then single floats; every width does the same operations in the same order.
/// <para>
/// The states a and b, and s when ε allows it (<see cref="RMSpropCoefficients.SmallestFlushingEpsilon"/>), are flushed to
/// zero below float's smallest normal, as <see cref="CpuAdam"/>'s moments and for its reason: a row without gradients
/// decays them into subnormals, which x86 computes through slow microcode assists. s − a·a is clamped at 0: s ≥ a·a in
/// exact arithmetic, but a flushed s beside a normal a, or rounding drift (torch's own states drift slightly below), would
/// otherwise take the square root of a negative number, where torch gives NaN.
/// </para>
/// </summary>
internal static unsafe class CpuRMSprop
{
    /// <summary>
    /// The update, split across threads for large parameter sets, at most <paramref name="width"/> wide. <paramref name="momentumBuffer"/> is read only when
    /// μ ≠ 0 and <paramref name="gradientAverage"/> only when centered; either may then be empty.
    /// </summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> squareAverage, Span<float> momentumBuffer, Span<float> gradientAverage, RMSpropCoefficients k, int threads, CpuVectorWidth width)
    {
        if (parameters.Length != gradients.Length || parameters.Length != squareAverage.Length
            || (k.Momentum != 0f && momentumBuffer.Length != parameters.Length) || (k.Centered != 0 && gradientAverage.Length != parameters.Length))
        {
            throw new ArgumentException("parameters, gradients and the states in use must have the same length.");
        }

        fixed (float* p = parameters, g = gradients, s = squareAverage, b = momentumBuffer, a = gradientAverage)
        {
            CpuParallel.For(parameters.Length, CpuParallel.MinElementsPerChunk, threads, new StepChunk(p, g, s, b, a, k, width));
        }
    }

    /// <summary>The update's pointers and coefficients, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct Update(float* parameters, float* gradients, float* squareAverage, float* momentumBuffer, float* gradientAverage, RMSpropCoefficients k) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Registers<TLanes, TVector>(parameters, gradients, squareAverage, momentumBuffer, gradientAverage, start, n, in k);
    }

    /// <summary>Updates elements [start, n) in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    private static int Registers<TLanes, TVector>(float* parameters, float* gradients, float* squareAverage, float* momentumBuffer, float* gradientAverage, int start, int n, in RMSpropCoefficients k)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var learningRate = TLanes.Create(k.LearningRate);
        var alpha = TLanes.Create(k.Alpha);
        var oneMinusAlpha = TLanes.Create(k.OneMinusAlpha);
        var epsilon = TLanes.Create(k.Epsilon);
        var weightDecay = TLanes.Create(k.WeightDecay);
        var momentum = TLanes.Create(k.Momentum);
        var zero = TLanes.Create(0f);
        bool decay = k.WeightDecay != 0f, hasMomentum = k.Momentum != 0f, centered = k.Centered != 0, flushSquare = k.FlushSquareAverage != 0;
        int i = start;
        for (; i + TLanes.Count <= n; i += TLanes.Count)
        {
            var p = TLanes.Load(parameters + i);
            var g = TLanes.Load(gradients + i);
            if (decay)
            {
                g = TLanes.Add(g, TLanes.Multiply(weightDecay, p));
            }

            var s = TLanes.Add(TLanes.Multiply(alpha, TLanes.Load(squareAverage + i)), TLanes.Multiply(TLanes.Multiply(oneMinusAlpha, g), g));
            if (flushSquare)
            {
                s = TLanes.FlushSubnormal(s);
            }

            TLanes.Store(s, squareAverage + i);
            if (centered)
            {
                var a = TLanes.FlushSubnormal(TLanes.Add(TLanes.Multiply(alpha, TLanes.Load(gradientAverage + i)), TLanes.Multiply(oneMinusAlpha, g)));
                TLanes.Store(a, gradientAverage + i);
                s = TLanes.Max(TLanes.Subtract(s, TLanes.Multiply(a, a)), zero);
            }

            var denominator = TLanes.Add(TLanes.Sqrt(s), epsilon);
            var update = TLanes.Divide(g, denominator);
            if (hasMomentum)
            {
                update = TLanes.FlushSubnormal(TLanes.Add(TLanes.Multiply(momentum, TLanes.Load(momentumBuffer + i)), update));
                TLanes.Store(update, momentumBuffer + i);
            }

            TLanes.Store(TLanes.Subtract(p, TLanes.Multiply(learningRate, update)), parameters + i);
        }

        return i;
    }

    /// <summary>One thread's part: elements [start, start + count).</summary>
    private readonly struct StepChunk(float* parameters, float* gradients, float* squareAverage, float* momentumBuffer, float* gradientAverage, RMSpropCoefficients k, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            float* b = momentumBuffer is null ? null : momentumBuffer + start, a = gradientAverage is null ? null : gradientAverage + start;
            FloatLanesLoop.Run(new Update(parameters + start, gradients + start, squareAverage + start, b, a, k), (int)count, width);
        }
    }
}
