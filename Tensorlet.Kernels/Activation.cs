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

    /// <summary>GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch.nn.GELU(approximate='none').</summary>
    Gelu,

    /// <summary>GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as torch.nn.GELU(approximate='tanh').</summary>
    GeluTanh,

    /// <summary>SiLU (swish), x·σ(x) = x / (1 + exp(−x)), as torch.nn.SiLU.</summary>
    Silu,

    /// <summary>
    /// Leaky ReLU, x for x &gt; 0 else negative_slope·x, as torch.nn.LeakyReLU. Its slope is an argument of its own
    /// kernels (Ops.LeakyReluForward and Ops.LeakyReluBackward, the LeakyRelu module), which the generic activation
    /// ops do not take.
    /// </summary>
    LeakyRelu,
}
