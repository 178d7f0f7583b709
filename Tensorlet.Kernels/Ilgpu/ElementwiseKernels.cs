using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>The ILGPU elementwise kernels, one thread per element: fill, scale, and the activations forward and backward.</summary>
internal static class ElementwiseKernels
{
    /// <summary>x[i] = value.</summary>
    public static void Fill(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    /// <summary>x[i] *= alpha.</summary>
    public static void Scale(Index1D i, ArrayView<float> x, float alpha) => x[i] = alpha * x[i];

    /// <summary>y[i] = f(x[i]) for f given as an <see cref="Activation"/> cast to int (the branch is uniform, so free). y may be x.</summary>
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
        else
        {
            y[i] = KernelMath.Sigmoid(v);
        }
    }

    /// <summary>
    /// dx[i] = dy[i]·f'(x[i]), from the forward input x or output y = f(x), whichever f' is written through (each branch
    /// reads only that one): relu y &gt; 0, tanh 1 − y², sigmoid y(1 − y). dx may be dy.
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
        else
        {
            float yi = y[i];
            dx[i] = g * (yi * (1f - yi));
        }
    }
}
