namespace Tensorlet.Kernels;

/// <summary>
/// Which function a softmax backward kernel differentiates, as a compile-time constant: the kernels are generic over a
/// struct implementing this (as the tiled GEMM over its tile), so one body serves both and the choice costs nothing
/// per element. From the forward's output y, the softmax's dx = y⊙(dy − Σ dy⊙y); the log-softmax's dx = dy − e^y·Σ dy.
/// </summary>
internal interface ISoftmaxKind
{
    /// <summary>True for the log-softmax, false for the softmax.</summary>
    bool IsLog { get; }
}

/// <summary>The softmax, y = e^x / Σ e^x.</summary>
internal readonly struct SoftmaxKind : ISoftmaxKind
{
    /// <inheritdoc/>
    public bool IsLog => false;
}

/// <summary>The log-softmax, y = x − log Σ e^x.</summary>
internal readonly struct LogSoftmaxKind : ISoftmaxKind
{
    /// <inheritdoc/>
    public bool IsLog => true;
}
