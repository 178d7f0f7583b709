namespace Tensorlet.Nn;

/// <summary>
/// nn.Conv2d's <c>padding</c>: a number of zero rows above and below the input and zero columns before and after it
/// (an int converts to the same amount on both axes and a (height, width) tuple to one per axis, so <c>padding: 1</c>
/// and <c>padding: (1, 2)</c> read as in PyTorch), <see cref="Same"/> (<c>padding='same'</c>) or <see cref="Valid"/>
/// (<c>padding='valid'</c>, no padding: the same as 0). The padding is zeros: nn.Conv2d's other <c>padding_mode</c>s
/// are not offered for <see cref="Conv2d"/>.
/// </summary>
public readonly record struct Conv2dPadding
{
    private Conv2dPadding(Size2d amount, bool isSame)
    {
        Amount = amount;
        IsSame = isSame;
    }

    /// <summary>
    /// <c>padding='same'</c>: H_out = H and W_out = W, for stride 1 only. Each axis is padded as
    /// <see cref="Conv1dPadding.Same"/> pads its one: ⌊reach/2⌋ before the input and the rest after it, for the dilated
    /// kernel's reach dilation·(k − 1) on that axis, as PyTorch pads it.
    /// </summary>
    public static Conv2dPadding Same { get; } = new(default, true);

    /// <summary><c>padding='valid'</c>: no padding, every output reading the input alone; equal to a padding of 0.</summary>
    public static Conv2dPadding Valid { get; } = new(default, false);

    /// <summary>The zero rows added above and below the input (Height) and zero columns before and after it (Width); 0 for <see cref="Same"/>, whose amounts depend on the kernel.</summary>
    public Size2d Amount { get; }

    /// <summary>Whether this is <see cref="Same"/>.</summary>
    public bool IsSame { get; }

    /// <summary><paramref name="amount"/> on each side of both axes, as nn.Conv2d's int <c>padding</c>; a negative amount is refused by the layer.</summary>
    /// <param name="amount">The positions added on each side.</param>
    public static implicit operator Conv2dPadding(int amount) => FromInt32(amount);

    /// <summary>(height, width) on each side of each axis, as nn.Conv2d's tuple <c>padding</c>.</summary>
    /// <param name="amount">The rows added above and below, and the columns added before and after.</param>
    public static implicit operator Conv2dPadding((int Height, int Width) amount) => FromValueTuple(amount);

    /// <summary><paramref name="amount"/> on each side of both axes (the named form of the conversion from int).</summary>
    /// <param name="amount">The positions added on each side.</param>
    /// <returns>The padding.</returns>
    public static Conv2dPadding FromInt32(int amount) => new(amount, false);

    /// <summary>(height, width) on each side of each axis (the named form of the conversion from a tuple).</summary>
    /// <param name="amount">The rows added above and below, and the columns added before and after.</param>
    /// <returns>The padding.</returns>
    public static Conv2dPadding FromValueTuple((int Height, int Width) amount) => new(amount, false);

    /// <summary>PyTorch's spelling: <c>'same'</c>, or the amount (<see cref="Valid"/> is 0).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsSame ? "'same'" : Amount.ToString();

    /// <summary>The rows above and below, and the columns before and after, for a kernel of <paramref name="kernelSize"/> taps <paramref name="dilation"/> apart.</summary>
    internal (int Top, int Bottom, int Left, int Right) Resolve(Size2d kernelSize, Size2d dilation)
    {
        var (top, bottom) = (IsSame ? Conv1dPadding.Same : Amount.Height).Resolve(kernelSize.Height, dilation.Height);
        var (left, right) = (IsSame ? Conv1dPadding.Same : Amount.Width).Resolve(kernelSize.Width, dilation.Width);
        return (top, bottom, left, right);
    }
}
