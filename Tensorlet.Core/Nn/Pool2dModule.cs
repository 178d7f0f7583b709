namespace Tensorlet.Nn;

/// <summary>
/// A 2-d pooling over [N, C, H, W], max or average (<see cref="MaxPool2d"/>, <see cref="AvgPool2d"/>,
/// <see cref="AdaptiveMaxPool2d"/>, <see cref="AdaptiveAvgPool2d"/>): y [N, C, H_out, W_out] pooled over each output's
/// window, the taps of its window along H crossed with those along W, each axis as a 1-d pooling's, in buffers the
/// module owns and reuses (<see cref="PoolModule"/>). A max pooling's indices are positions h·W + w. Backward takes dy
/// [N, C, H_out, W_out] or its rows [N·C·H_out, W_out]. A pooling has no parameters.
/// </summary>
public abstract class Pool2dModule : PoolModule
{
    private protected Pool2dModule(bool max)
        : base(max)
    {
    }
}
