namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One torch.optim.Adam step (PyTorch 1.13 _single_tensor_adam) over float32 parameters, in place:
/// g += wd·p (if wd ≠ 0); m = β1·m + (1−β1)·g; v = β2·v + ((1−β2)·g)·g; p −= stepSize·m/(√v·invSqrtBc2 + ε),
/// with stepSize = lr/(1−β1^t) and invSqrtBc2 = 1/√(1−β2^t) from <see cref="AdamCoefficients"/>. (1−β2)·g is rounded
/// first, as torch's addcmul_ does: g·g first would overflow to +∞ from |g| ≈ 1.8e19, where torch's v stays finite up to
/// |g| ≈ √(FLT_MAX/(1−β2)). With amsgrad, vMax = max(vMax, v) is kept and divides in v's place (√vMax·invSqrtBc2 + ε).
/// <para>
/// m and v are flushed to zero once they fall below float's smallest normal. A row that gets no gradient
/// (an n-gram absent from recent batches) has m decay by β1 each step and turn subnormal after ~800 steps;
/// x86 does subnormal arithmetic through microcode assists, which slowed whole n-gram epochs about 7×.
/// The flushed amount moves the parameter by far less than one ulp, so results are unchanged.
/// </para>
/// </summary>
internal static unsafe class CpuAdam
{
    /// <summary>
    /// The update split across threads for large parameter sets, at most <paramref name="width"/> wide. <paramref name="vMax"/> is read and written only with
    /// amsgrad, and may otherwise be empty.
    /// </summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, Span<float> vMax, AdamCoefficients k, int threads, CpuVectorWidth width)
    {
        if (parameters.Length != gradients.Length || parameters.Length != m.Length || parameters.Length != v.Length
            || (k.Amsgrad != 0 && vMax.Length != parameters.Length))
        {
            throw new ArgumentException("parameters, gradients and the states in use must have the same length.");
        }

        fixed (float* pp = parameters, gp = gradients, mp = m, vp = v, xp = vMax)
        {
            if (parameters.Length < 2 * CpuParallel.MinElementsPerChunk)
            {
                new StepChunk(pp, gp, mp, vp, xp, k, width).Run(0, parameters.Length);
                return;
            }

            CpuParallel.For(parameters.Length, CpuParallel.MinElementsPerChunk, threads, new StepChunk(pp, gp, mp, vp, xp, k, width));
        }
    }

    /// <summary>One thread's part: elements [start, start + count).</summary>
    private readonly struct StepChunk(float* parameters, float* gradients, float* m, float* v, float* vMax, AdamCoefficients k, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            float* x = vMax is null ? null : vMax + start;
            FloatLanesLoop.Run(new Update(parameters + start, gradients + start, m + start, v + start, x, k), (int)count, width);
        }
    }

    /// <summary>The update's pointers and coefficients, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct Update(float* parameters, float* gradients, float* m, float* v, float* vMax, AdamCoefficients k) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Registers<TLanes, TVector>(parameters, gradients, m, v, vMax, start, n, in k);
    }

    /// <summary>Updates elements [start, n) in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    private static int Registers<TLanes, TVector>(float* parameters, float* gradients, float* m, float* v, float* vMax, int start, int n, in AdamCoefficients k)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var beta1 = TLanes.Create(k.Beta1);
        var beta2 = TLanes.Create(k.Beta2);
        var oneMinusBeta1 = TLanes.Create(k.OneMinusBeta1);
        var oneMinusBeta2 = TLanes.Create(k.OneMinusBeta2);
        var weightDecay = TLanes.Create(k.WeightDecay);
        var stepSize = TLanes.Create(k.StepSize);
        var invSqrtBc2 = TLanes.Create(k.InverseSqrtBiasCorrection2);
        var epsilon = TLanes.Create(k.Epsilon);
        bool decay = k.WeightDecay != 0f, amsgrad = k.Amsgrad != 0;
        int i = start;
        for (; i + TLanes.Count <= n; i += TLanes.Count)
        {
            var p = TLanes.Load(parameters + i);
            var g = TLanes.Load(gradients + i);
            if (decay)
            {
                g = TLanes.Add(g, TLanes.Multiply(weightDecay, p));
            }

            var mi = TLanes.FlushSubnormal(TLanes.Add(TLanes.Multiply(beta1, TLanes.Load(m + i)), TLanes.Multiply(oneMinusBeta1, g)));
            var vi = TLanes.FlushSubnormal(TLanes.Add(TLanes.Multiply(beta2, TLanes.Load(v + i)), TLanes.Multiply(TLanes.Multiply(oneMinusBeta2, g), g)));
            TLanes.Store(mi, m + i);
            TLanes.Store(vi, v + i);
            if (amsgrad)
            {
                vi = TLanes.Max(TLanes.Load(vMax + i), vi);
                TLanes.Store(vi, vMax + i);
            }

            var denominator = TLanes.Add(TLanes.Multiply(TLanes.Sqrt(vi), invSqrtBc2), epsilon);
            TLanes.Store(TLanes.Subtract(p, TLanes.Multiply(stepSize, TLanes.Divide(mi, denominator))), parameters + i);
        }

        return i;
    }
}
