using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// Elements [start, start + count) along one dimension, as torch.narrow(x, dim, start, count) (x[start:start+count] for
/// dim 0), with its gradient. A negative start counts from the end of the dimension and a negative dim from the last, so
/// <c>new Slice(-1, 1)</c> takes the last step of a time-major <see cref="Lstm"/>'s [T, B, H] output and
/// <c>new Slice(-1, 1, dim: 1)</c> the last step of a batch-first one's [B, T, H]. Along dim 0 Forward returns a view (no
/// copy); along another, the slice is not contiguous, and Forward gathers its rows into a buffer the module owns
/// (<see cref="Ops.GatherRows"/>). Backward returns a zeroed input-shaped gradient with dy in the slice.
/// </summary>
public sealed class Slice : Module
{
    private readonly Workspace inputGradient = new();
    private readonly Workspace gathered = new();
    private readonly IndexWorkspace sliceRowsBuffer = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly ShapeView rowsOfInput = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientRows = new();
    private Tensor? savedInput;
    private int savedStart;
    private readonly ShapeView rowsView = new();
    private readonly ShapeView sliceView = new();

    // Along a dimension d > 0, the input is read as rows [outer·size, inner] (outer the product of the dimensions before
    // d, inner of those after), and the slice is rows o·size + start + j of it, j < count, for every o: a prefix of a
    // buffer that only grows, rewritten when the input's shape changes, so varying shapes allocate no device memory.
    private IndexTensor? sliceRows;
    private (int Outer, int Size, int Start) sliceRowsKey;
    private int savedInner;
    private bool gatheredLast;

    /// <summary>Takes <paramref name="count"/> elements of dimension <paramref name="dim"/> from <paramref name="start"/> (from the end when negative).</summary>
    /// <param name="start">The first element; negative counts from the end of the dimension.</param>
    /// <param name="count">How many, at least 1.</param>
    /// <param name="dim">The dimension, as torch.narrow's dim: 0 for the first; negative counts from the last (−1).</param>
    public Slice(int start, int count, int dim = 0)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(count);
        if (start < 0 && start + count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"A slice that starts {-start} from the end has at most {-start} elements; got {count}.");
        }

        Start = start;
        Count = count;
        Dim = dim;
    }

    /// <summary>The first element; negative counts from the end.</summary>
    public int Start { get; }

    /// <summary>The number of elements.</summary>
    public int Count { get; }

    /// <summary>The dimension sliced; negative counts from the last.</summary>
    public int Dim { get; }

    /// <summary>x narrowed to [start, start + count) along <see cref="Dim"/>: a view along dim 0, a copy along another.</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        int dim = Dim < 0 ? input.Rank + Dim : Dim;
        if (dim < 0 || dim >= input.Rank)
        {
            throw new ArgumentException($"Slice dim {Dim} is outside the {input.Rank} dimensions of {input.ShapeText}.", nameof(input));
        }

        int size = input.Shape[dim];
        int start = Start < 0 ? size + Start : Start;
        if (start < 0 || start + Count > size)
        {
            throw new ArgumentException($"Slice [{Start}, {Start}+{Count}) is outside dimension {dim} of {input.ShapeText}.", nameof(input));
        }

        savedInput = input;
        savedStart = start;
        gatheredLast = dim > 0;
        return LastOutput = dim == 0 ? sliceView.Rows(input, start, Count) : GatherSlice(input, dim, size, start);
    }

    /// <summary>dx = 0 except the slice, which gets dy.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        if (gatheredLast)
        {
            // Every row of the slice is one row of the input: each sum is 0 + dy, exact.
            int rows = (int)(x.Length / savedInner);
            var dxRows = inputGradient.Get(x.Device, rows, savedInner);
            Ops.Fill(dxRows, 0f);
            Ops.ScatterAddRows(gradientRows.Matrix(outputGradient, (int)sliceRows!.Length, savedInner), sliceRows, dxRows);
            return inputGradientShaped.Like(dxRows, x, x.Shape[^1]);
        }

        var dx = inputGradient.Get(x.Device, x.Rows, x.Columns);
        Ops.Fill(dx, 0f);
        Ops.Copy(outputGradient, rowsView.Rows(dx, savedStart, Count));
        return x.Rank == 2 ? dx : inputGradientShaped.Like(dx, x, x.Shape[^1]);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        inputGradient.Dispose();
        gathered.Dispose();
        sliceRowsBuffer.Dispose();
    }

    // The slice along dim > 0, gathered as rows [outer·count, inner] into the module's buffer and shaped as the input
    // with Count at dim.
    private Tensor GatherSlice(Tensor input, int dim, int size, int start)
    {
        int outer = 1;
        for (int d = 0; d < dim; d++)
        {
            outer *= input.Shape[d];
        }

        int inner = (int)(input.Length / ((long)outer * size));
        if (sliceRows is null || sliceRows.IsDisposed || !ReferenceEquals(sliceRows.Device, input.Device) || sliceRowsKey != (outer, size, start))
        {
            var rows = sliceRowsBuffer.Stage(outer * Count);
            for (int o = 0; o < outer; o++)
            {
                for (int j = 0; j < Count; j++)
                {
                    rows[(o * Count) + j] = (o * size) + start + j;
                }
            }

            sliceRows = sliceRowsBuffer.Upload(input.Device, outer * Count);
            sliceRowsKey = (outer, size, start);
        }

        savedInner = inner;
        var output = gathered.Get(input.Device, outer * Count, inner);
        Ops.GatherRows(rowsOfInput.Matrix(input, outer * size, inner), sliceRows, output);
        return outputShaped.Resized(output, input, dim, Count);
    }
}
