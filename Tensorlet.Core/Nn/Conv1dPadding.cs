namespace Tensorlet.Nn;

/// <summary>
/// nn.Conv1d's <c>padding</c>: a number of positions added on each side of the input (an int converts to it, so
/// <c>padding: 1</c> reads as in PyTorch), <see cref="Same"/> (<c>padding='same'</c>) or <see cref="Valid"/>
/// (<c>padding='valid'</c>, no padding: the same as 0).
/// </summary>
public readonly record struct Conv1dPadding
{
    private Conv1dPadding(int amount, bool isSame)
    {
        Amount = amount;
        IsSame = isSame;
    }

    /// <summary>
    /// <c>padding='same'</c>: L_out = L, for stride 1 only. The dilated kernel's reach dilation·(k − 1) is split into
    /// ⌊reach/2⌋ positions before the input and the rest after it, so an even reach is padded evenly and an odd one has
    /// one more position on the right, as PyTorch pads it.
    /// </summary>
    public static Conv1dPadding Same { get; } = new(0, true);

    /// <summary><c>padding='valid'</c>: no padding, every output reading the input alone; equal to a padding of 0.</summary>
    public static Conv1dPadding Valid { get; } = new(0, false);

    /// <summary>The positions added on each side; 0 for <see cref="Same"/>, whose amounts depend on the kernel (<see cref="Conv1d.PaddingLeft"/>).</summary>
    public int Amount { get; }

    /// <summary>Whether this is <see cref="Same"/>.</summary>
    public bool IsSame { get; }

    /// <summary><paramref name="amount"/> positions on each side, as nn.Conv1d's int <c>padding</c>; a negative amount is refused by the layer.</summary>
    /// <param name="amount">The positions added on each side.</param>
    public static implicit operator Conv1dPadding(int amount) => FromInt32(amount);

    /// <summary><paramref name="amount"/> positions on each side (the named form of the conversion from int).</summary>
    /// <param name="amount">The positions added on each side.</param>
    /// <returns>The padding.</returns>
    public static Conv1dPadding FromInt32(int amount) => new(amount, false);

    /// <summary>PyTorch's spelling: <c>'same'</c>, or the amount (<see cref="Valid"/> is 0).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsSame ? "'same'" : Amount.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The positions before and after an input of a kernel of <paramref name="kernelSize"/> taps <paramref name="dilation"/> apart.</summary>
    internal (int Left, int Right) Resolve(int kernelSize, int dilation)
    {
        if (!IsSame)
        {
            return (Amount, Amount);
        }

        long reach = (long)dilation * (kernelSize - 1);
        return reach > int.MaxValue
            ? throw new ArgumentOutOfRangeException(nameof(dilation), $"padding 'same' for a kernel of {kernelSize} taps at dilation {dilation} needs {reach} positions, more than an int holds.")
            : ((int)(reach / 2), (int)(reach - (reach / 2)));
    }
}
