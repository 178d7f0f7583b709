namespace Tensorlet.Nn;

/// <summary>
/// A 1-d pooling over [N, C, L], max or average (<see cref="MaxPool1d"/>, <see cref="AvgPool1d"/>,
/// <see cref="AdaptiveMaxPool1d"/>, <see cref="AdaptiveAvgPool1d"/>): y [N, C, L_out] pooled over each output's
/// window, in buffers the module owns and reuses (<see cref="PoolModule"/>). Backward takes dy [N, C, L_out] or its rows
/// [N·C, L_out]. A pooling has no parameters.
/// </summary>
public abstract class Pool1dModule : PoolModule
{
    private protected Pool1dModule(bool max)
        : base(max)
    {
    }
}
