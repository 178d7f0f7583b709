namespace Tensorlet.Kernels;

/// <summary>
/// The windows of a pooling over planes of H×W positions, shared by the CPU, ILGPU and reference kernels: x is
/// [Planes, H·W] (a pooling's [N, C, H, W] read as N·C planes, row-major) and y is [Planes, H_out·W_out], y[p, oh·W_out
/// + ow] pooled over the window of output (oh, ow), whose taps are those of output oh along <see cref="Height"/> crossed
/// with those of output ow along <see cref="Width"/>, taken row by row (h outer, w inner), as PyTorch's nn.MaxPool2d and
/// nn.AvgPool2d take them. An average divides by the product of the two axes' divisors, as PyTorch 1.13 does. A 1-d
/// pooling over [N, C, L] is the case H = 1 (<see cref="Of"/>): one kernel per idea serves both.
/// </summary>
/// <param name="Planes">N·C.</param>
/// <param name="Height">The windows along H (its Rows unused).</param>
/// <param name="Width">The windows along W (its Rows unused).</param>
internal readonly record struct Pool2dGeometry(int Planes, Pool1dGeometry Height, Pool1dGeometry Width)
{
    /// <summary>H·W, the positions of a plane of x.</summary>
    public int InputSize => Height.Length * Width.Length;

    /// <summary>H_out·W_out, the outputs of a plane of y.</summary>
    public int OutputSize => Height.OutputLength * Width.OutputLength;

    /// <summary>Whether both axes hold the windows of a pooling (<see cref="Pool1dGeometry.IsPooling"/>) and Planes is not negative.</summary>
    public bool IsPooling => Planes >= 0 && Height.IsPooling && Width.IsPooling;

    /// <summary>1-d windows over rows [rows.Rows, L] as the planes [rows.Rows, 1·L]: along H one tap, one output, divisor 1.</summary>
    public static Pool2dGeometry Of(Pool1dGeometry rows) => new(rows.Rows, Pool1dGeometry.Sliding(1, 1, 1, 1, 0, 1, countIncludePad: true), rows with { Rows = 1 });

    /// <summary>The 1-d windows as planes of height 1 (<see cref="Of"/>).</summary>
    public static implicit operator Pool2dGeometry(Pool1dGeometry rows) => Of(rows);

    /// <summary>What an average of output (<paramref name="oh"/>, <paramref name="ow"/>) divides by: the product of the axes' divisors.</summary>
    public int Divisor(int oh, int ow) => Height.Divisor(oh) * Width.Divisor(ow);
}
