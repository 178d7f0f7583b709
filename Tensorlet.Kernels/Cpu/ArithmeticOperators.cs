using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>y = alpha·x.</summary>
internal readonly struct ScaleOperator(float alpha) : IUnaryOperator
{
    public float Invoke(float x) => alpha * x;

    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(alpha) * x;

    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(alpha) * x;
}

/// <summary>d = x + y.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public float Invoke(float x, float y) => x + y;

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
}
