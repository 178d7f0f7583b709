using System.Globalization;

namespace Tensorlet.Nn;

/// <summary>
/// A size on each of the two spatial axes of a 2-d layer, as nn.Conv2d's int-or-tuple <c>kernel_size</c>,
/// <c>stride</c> and <c>dilation</c>: an int converts to the same size on both axes and a (height, width) tuple to one
/// per axis, so <c>kernelSize: 3</c> and <c>kernelSize: (3, 5)</c> read as in PyTorch.
/// </summary>
/// <param name="Height">The size along the height (dimension 2 of [N, C, H, W]).</param>
/// <param name="Width">The size along the width (dimension 3).</param>
public readonly record struct Size2d(int Height, int Width)
{
    /// <summary><paramref name="size"/> on both axes, as PyTorch reads an int.</summary>
    /// <param name="size">The size on each axis.</param>
    public static implicit operator Size2d(int size) => FromInt32(size);

    /// <summary>(height, width), as PyTorch reads a tuple.</summary>
    /// <param name="size">The size on each axis.</param>
    public static implicit operator Size2d((int Height, int Width) size) => FromValueTuple(size);

    /// <summary><paramref name="size"/> on both axes (the named form of the conversion from int).</summary>
    /// <param name="size">The size on each axis.</param>
    /// <returns>The size.</returns>
    public static Size2d FromInt32(int size) => new(size, size);

    /// <summary>(height, width) (the named form of the conversion from a tuple).</summary>
    /// <param name="size">The size on each axis.</param>
    /// <returns>The size.</returns>
    public static Size2d FromValueTuple((int Height, int Width) size) => new(size.Height, size.Width);

    /// <summary>PyTorch's spelling: one number when both axes agree, else (height, width).</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => Height == Width ? Height.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"({Height}, {Width})");
}
