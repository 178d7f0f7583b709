namespace Tensorlet.Nn;

/// <summary>Which GELU a <see cref="Gelu"/> computes, as the <c>approximate</c> argument of PyTorch's nn.GELU.</summary>
public enum GeluApproximation
{
    /// <summary><c>'none'</c>: the exact x·Φ(x) = 0.5·x·(1 + erf(x/√2)).</summary>
    None,

    /// <summary><c>'tanh'</c>: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    Tanh,
}
