namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One torch.optim.SGD step (PyTorch 1.13 _single_tensor_sgd) over float32 parameters, in place:
/// g += wd·p; with momentum μ, buf = g on the first step, else buf = μ·buf + (1 − dampening)·g, and
/// g = nesterov ? g + μ·buf : buf; then p −= lr·g.
/// </summary>
internal static unsafe class CpuSgd
{
    /// <summary>The update, split across threads for large parameter sets.</summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> momentum, SgdCoefficients k, int threads)
    {
        if (parameters.Length != gradients.Length || (k.Momentum != 0f && momentum.Length != parameters.Length))
        {
            throw new ArgumentException("parameters, gradients and the momentum buffer must have the same length.");
        }

        fixed (float* p = parameters, g = gradients, b = momentum)
        {
            CpuParallel.For(parameters.Length, CpuParallel.MinElementsPerChunk, threads, new StepChunk(p, g, b, k));
        }
    }

    private readonly struct StepChunk(float* parameters, float* gradients, float* buffer, SgdCoefficients k) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long i = start; i < start + count; i++)
            {
                float p = parameters[i];
                float g = gradients[i];
                if (k.WeightDecay != 0f)
                {
                    g += k.WeightDecay * p;
                }

                if (k.Momentum != 0f)
                {
                    float b = k.FirstStep != 0 ? g : (k.Momentum * buffer[i]) + (k.OneMinusDampening * g);
                    buffer[i] = b;
                    g = k.Nesterov != 0 ? g + (k.Momentum * b) : b;
                }

                parameters[i] = p - (k.LearningRate * g);
            }
        }
    }
}
