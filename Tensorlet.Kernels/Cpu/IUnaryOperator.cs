using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>An elementwise y = f(x) at three widths, driven by <see cref="CpuElementwise"/>; a struct so the JIT specializes and inlines it.</summary>
internal interface IUnaryOperator
{
    float Invoke(float x);

    Vector256<float> Invoke(Vector256<float> x);

    Vector512<float> Invoke(Vector512<float> x);
}
