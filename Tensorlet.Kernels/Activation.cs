namespace Tensorlet.Kernels;

/// <summary>The elementwise activations with fused forward and backward kernels.</summary>
public enum Activation
{
    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>tanh(x).</summary>
    Tanh,

    /// <summary>1 / (1 + exp(-x)).</summary>
    Sigmoid,
}
