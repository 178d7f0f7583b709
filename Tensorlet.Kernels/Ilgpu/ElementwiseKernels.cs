using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The ILGPU elementwise kernels, one thread per element: fill, scale, and the activations forward and backward (leaky
/// ReLU, whose slope is an argument, in kernels of its own).
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>x[i] = value.</summary>
    public static void Fill(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    /// <summary>x[i] *= alpha.</summary>
    public static void Scale(Index1D i, ArrayView<float> x, float alpha) => x[i] = alpha * x[i];

    /// <summary>
    /// y[i] = f(x[i]) for f given as an <see cref="Activation"/> cast to int (the branch is uniform, so free), each as its
    /// CPU operator computes it (ActivationOperators.cs). y may be x.
    /// </summary>
    public static void ActivationForward(Index1D i, ArrayView<float> x, ArrayView<float> y, int activation)
    {
        float v = x[i];
        if (activation == (int)Activation.Relu)
        {
            // v > 0 ? v : 0 would turn NaN into 0; torch.relu keeps NaN.
            y[i] = v < 0f ? 0f : v;
        }
        else if (activation == (int)Activation.Tanh)
        {
            y[i] = KernelMath.Tanh(v);
        }
        else if (activation == (int)Activation.Sigmoid)
        {
            y[i] = KernelMath.Sigmoid(v);
        }
        else if (activation == (int)Activation.Gelu)
        {
            // As GeluOperator: 0.5·x first, so y stays finite up to float's largest x.
            y[i] = 0.5f * v * (1f + KernelMath.Erf(v * GeluConstants.SqrtHalf));
        }
        else if (activation == (int)Activation.Silu)
        {
            // As SiluOperator: σ from e = e^(−|x|), which never overflows.
            float e = KernelMath.Exp(-XMath.Abs(v));
            y[i] = v * ((v < 0f ? e : 1f) / (1f + e));
        }
        else
        {
            float u = GeluTanhArgument(v, v * v);
            float e = KernelMath.Exp(-2f * XMath.Abs(u));
            y[i] = v * ((u < 0f ? e : 1f) / (1f + e));
        }
    }

    /// <summary>
    /// dx[i] = dy[i]·f'(x[i]), from the forward input x or output y = f(x), whichever f' is written through (each branch
    /// reads only that one): relu y &gt; 0, tanh 1 − y², sigmoid y(1 − y), GELU, its tanh form and SiLU x, as
    /// GeluBackwardOperator, GeluTanhBackwardOperator and SiluBackwardOperator write them. dx may be dy.
    /// </summary>
    public static void ActivationBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int activation)
    {
        float g = dy[i];
        if (activation == (int)Activation.Relu)
        {
            dx[i] = y[i] > 0f ? g : 0f;
        }
        else if (activation == (int)Activation.Tanh)
        {
            float yi = y[i];
            dx[i] = g * (1f - (yi * yi));
        }
        else if (activation == (int)Activation.Sigmoid)
        {
            float yi = y[i];
            dx[i] = g * (yi * (1f - yi));
        }
        else if (activation == (int)Activation.Gelu)
        {
            float xi = x[i];
            float cdf = 0.5f * (1f + KernelMath.Erf(xi * GeluConstants.SqrtHalf));
            float pdf = KernelMath.Exp(-0.5f * (xi * xi)) * GeluConstants.InverseSqrtTwoPi;
            dx[i] = g * ((xi * pdf) + cdf);
        }
        else if (activation == (int)Activation.Silu)
        {
            // As SiluBackwardOperator: σ + x·e/(1 + e)².
            float xi = x[i];
            float e = KernelMath.Exp(-XMath.Abs(xi));
            float d = 1f + e;
            dx[i] = g * ((xi * (e / (d * d))) + ((xi < 0f ? e : 1f) / d));
        }
        else
        {
            // Clamped as GeluTanhBackwardOperator clamps it (a comparison keeps NaN, which PTX min and max would not),
            // with x − x added back so that ±∞ gives NaN.
            float xi = x[i];
            float nanIfNotFinite = xi - xi;
            xi = xi < -GeluConstants.TanhFormClamp ? -GeluConstants.TanhFormClamp : xi > GeluConstants.TanhFormClamp ? GeluConstants.TanhFormClamp : xi;
            float x2 = xi * xi;
            float u = GeluTanhArgument(xi, x2);
            float e = KernelMath.Exp(-2f * XMath.Abs(u));
            float d = 1f + e;
            float s = (u < 0f ? e : 1f) / d;
            float twoDu = (2f * GeluConstants.SqrtTwoOverPi) * (((3f * GeluConstants.Kappa) * x2) + 1f);
            dx[i] = g * (s + (xi * (e / (d * d)) * twoDu) + nanIfNotFinite);
        }
    }

    /// <summary>
    /// y[i] = x[i] for x[i] &gt; 0, else negativeSlope·x[i] (<see cref="Activation.LeakyRelu"/>, as LeakyReluOperator: a NaN x
    /// gives NaN). y may be x.
    /// </summary>
    public static void LeakyReluForward(Index1D i, ArrayView<float> x, ArrayView<float> y, float negativeSlope)
    {
        float v = x[i];
        y[i] = v > 0f ? v : negativeSlope * v;
    }

    /// <summary>dx[i] = dy[i] for x[i] &gt; 0, else negativeSlope·dy[i], from the forward input x. dx may be dy.</summary>
    public static void LeakyReluBackward(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, float negativeSlope)
    {
        float g = dy[i];
        dx[i] = x[i] > 0f ? g : negativeSlope * g;
    }

    /// <summary>u = √(2/π)·(x + 0.044715·x³) from x and x², as GeluTanhOperator.Cdf forms it.</summary>
    private static float GeluTanhArgument(float x, float x2) => GeluConstants.SqrtTwoOverPi * ((GeluConstants.Kappa * (x2 * x)) + x);
}
