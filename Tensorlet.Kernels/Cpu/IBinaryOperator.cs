using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>An elementwise d = f(x, y) at three widths, driven by <see cref="CpuElementwise"/>; a struct so the JIT specializes and inlines it.</summary>
internal interface IBinaryOperator
{
    float Invoke(float x, float y);

    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);

    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}
