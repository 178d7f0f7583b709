using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One torch.optim.Adam step (PyTorch 1.13 _single_tensor_adam) over float32 parameters, in place:
/// g += wd·p (if wd ≠ 0); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g·g; p −= stepSize·m/(√v·invSqrtBc2 + ε),
/// with stepSize = lr/(1−β1^t) and invSqrtBc2 = 1/√(1−β2^t) from <see cref="AdamCoefficients"/>.
/// </summary>
internal static unsafe class CpuAdam
{
    /// <summary>The update on the calling thread.</summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, in AdamCoefficients k)
    {
        ref float pr = ref MemoryMarshal.GetReference(parameters);
        ref float gr = ref MemoryMarshal.GetReference(gradients);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        nuint n = (nuint)parameters.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var beta1 = Vector512.Create(k.Beta1);
            var beta2 = Vector512.Create(k.Beta2);
            var oneMinusBeta1 = Vector512.Create(k.OneMinusBeta1);
            var oneMinusBeta2 = Vector512.Create(k.OneMinusBeta2);
            var weightDecay = Vector512.Create(k.WeightDecay);
            var stepSize = Vector512.Create(k.StepSize);
            var invSqrtBc2 = Vector512.Create(k.InverseSqrtBiasCorrection2);
            var epsilon = Vector512.Create(k.Epsilon);
            bool decay = k.WeightDecay != 0f;
            for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
            {
                var p = Vector512.LoadUnsafe(ref pr, i);
                var g = Vector512.LoadUnsafe(ref gr, i);
                if (decay)
                {
                    g += weightDecay * p;
                }

                var mi = (beta1 * Vector512.LoadUnsafe(ref mr, i)) + (oneMinusBeta1 * g);
                var vi = (beta2 * Vector512.LoadUnsafe(ref vr, i)) + (oneMinusBeta2 * g * g);
                var denom = (Vector512.Sqrt(vi) * invSqrtBc2) + epsilon;
                mi.StoreUnsafe(ref mr, i);
                vi.StoreUnsafe(ref vr, i);
                (p - (stepSize * (mi / denom))).StoreUnsafe(ref pr, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var beta1 = Vector256.Create(k.Beta1);
            var beta2 = Vector256.Create(k.Beta2);
            var oneMinusBeta1 = Vector256.Create(k.OneMinusBeta1);
            var oneMinusBeta2 = Vector256.Create(k.OneMinusBeta2);
            var weightDecay = Vector256.Create(k.WeightDecay);
            var stepSize = Vector256.Create(k.StepSize);
            var invSqrtBc2 = Vector256.Create(k.InverseSqrtBiasCorrection2);
            var epsilon = Vector256.Create(k.Epsilon);
            bool decay = k.WeightDecay != 0f;
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                var p = Vector256.LoadUnsafe(ref pr, i);
                var g = Vector256.LoadUnsafe(ref gr, i);
                if (decay)
                {
                    g += weightDecay * p;
                }

                var mi = (beta1 * Vector256.LoadUnsafe(ref mr, i)) + (oneMinusBeta1 * g);
                var vi = (beta2 * Vector256.LoadUnsafe(ref vr, i)) + (oneMinusBeta2 * g * g);
                var denom = (Vector256.Sqrt(vi) * invSqrtBc2) + epsilon;
                mi.StoreUnsafe(ref mr, i);
                vi.StoreUnsafe(ref vr, i);
                (p - (stepSize * (mi / denom))).StoreUnsafe(ref pr, i);
            }
        }

        for (; i < n; i++)
        {
            float p = Unsafe.Add(ref pr, i);
            float g = Unsafe.Add(ref gr, i);
            if (k.WeightDecay != 0f)
            {
                g += k.WeightDecay * p;
            }

            float mi = (k.Beta1 * Unsafe.Add(ref mr, i)) + (k.OneMinusBeta1 * g);
            float vi = (k.Beta2 * Unsafe.Add(ref vr, i)) + (k.OneMinusBeta2 * g * g);
            float denom = (MathF.Sqrt(vi) * k.InverseSqrtBiasCorrection2) + k.Epsilon;
            Unsafe.Add(ref mr, i) = mi;
            Unsafe.Add(ref vr, i) = vi;
            Unsafe.Add(ref pr, i) = p - (k.StepSize * (mi / denom));
        }
    }

    /// <summary>The update split across threads for large parameter sets.</summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, AdamCoefficients k, ParallelOptions parallelism)
    {
        if (parameters.Length != gradients.Length || parameters.Length != m.Length || parameters.Length != v.Length)
        {
            throw new ArgumentException("parameters, gradients, m and v must have the same length.");
        }

        if (parameters.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            Step(parameters, gradients, m, v, in k);
            return;
        }

        fixed (float* pf = parameters, gf = gradients, mf = m, vf = v)
        {
            float* pp = pf, gp = gf, mp = mf, vp = vf;
            CpuParallel.For(parameters.Length, CpuParallel.MinElementsPerChunk, parallelism, (start, count) =>
                Step(new Span<float>(pp + start, (int)count), new ReadOnlySpan<float>(gp + start, (int)count), new Span<float>(mp + start, (int)count), new Span<float>(vp + start, (int)count), in k));
        }
    }
}
