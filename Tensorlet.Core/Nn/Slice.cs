namespace Tensorlet.Nn;

/// <summary>
/// Rows [start, start + count) of the first dimension, as x[start:start+count] in PyTorch, with its gradient: Forward
/// returns a view (no copy), Backward a zeroed input-shaped gradient with dy in those rows. A negative start counts
/// from the end, so <c>new Slice(-1, 1)</c> takes the last step of an <see cref="Lstm"/>'s [T, B, H] output.
/// </summary>
public sealed class Slice : Module
{
    private readonly Workspace inputGradient = new();
    private readonly ShapeView inputGradientShaped = new();
    private Tensor? savedInput;
    private int savedStart;
    private Tensor? view;
    private Tensor? rowsView;

    /// <summary>Takes <paramref name="count"/> rows from <paramref name="start"/> (from the end when negative).</summary>
    public Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (start < 0 && start + count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A slice that starts {-start} from the end has at most {-start} rows.");
        }

        Start = start;
        Count = count;
    }

    /// <summary>The first row; negative counts from the end.</summary>
    public int Start { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>The view x[start:start+count].</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        int start = Start < 0 ? input.Rows + Start : Start;
        if (start < 0 || start + Count > input.Rows)
        {
            throw new ArgumentException($"Slice [{Start}, {Start}+{Count}) is outside the first dimension of {input.ShapeText}.", nameof(input));
        }

        if (view is null || view.IsDisposed || !ReferenceEquals(savedInput, input) || savedStart != start)
        {
            view = input.Slice(start, Count);
        }

        savedInput = input;
        savedStart = start;
        return LastOutput = view;
    }

    /// <summary>dx = 0 except rows [start, start + count), which get dy.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var dx = inputGradient.Get(x.Device, x.Rows, x.Columns);
        Ops.Fill(dx, 0f);
        Ops.Copy(outputGradient, StepViews.Rows(dx, savedStart, Count, ref rowsView));
        return x.Rank == 2 ? dx : inputGradientShaped.Like(dx, x, x.Shape[^1]);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => inputGradient.Dispose();
}
