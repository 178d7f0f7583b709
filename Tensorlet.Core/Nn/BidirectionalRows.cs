namespace Tensorlet.Nn;

/// <summary>
/// A bidirectional recurrent module's reordering around the unidirectional recurrence, on time-major rows (row t·B + b
/// is step t of sequence b). The reverse direction runs the same recurrence over its layer's input with the steps
/// reversed (row t·B + b from row (T−1−t)·B + b), so its step s is step T−1−s of the sequence. The two directions' h of
/// one layer lie in one [2·T·B, H] buffer, the forward direction's rows first, and the layer's output [T·B, 2H], read as
/// rows [2·T·B, H] (row 2r + d is direction d's half of row r), is one gather from it; its gradient goes back the same
/// way. Every move is one gather of whole rows (<see cref="Ops.GatherRows"/>; <see cref="Ops.GatherIndices"/> for token
/// ids) by a permutation held on the device, remade only when (B, T) changes, into a buffer the module owns and reuses;
/// the permutations and the reversed ids live in grow-only buffers (<see cref="IndexWorkspace"/>), so once the largest
/// (B, T) has been seen no batch allocates device memory, whatever its shape. A gather copies, so every float is the
/// recurrence's.
/// </summary>
internal sealed class BidirectionalRows : IDisposable
{
    private readonly Workspace[] reversedInputs;
    private readonly Workspace[] outputs;
    private readonly ShapeView[] outputRows;
    private readonly ShapeView[] gradientRows;
    private readonly Workspace directionGradients = new();
    private readonly Workspace reversedInputGradient = new();
    private readonly Workspace reversedHiddenGradient = new();
    private readonly IndexWorkspace reverseBuffer = new();
    private readonly IndexWorkspace interleaveBuffer = new();
    private readonly IndexWorkspace splitBuffer = new();
    private readonly IndexWorkspace reversedIdsBuffer = new();

    // [T·B]: row t·B + b comes from row (T−1−t)·B + b; its own inverse.
    private IndexTensor? reverse;

    // [2·T·B]: output row 2r + d comes from pair row d·T·B + r (forward) or T·B + reverse[r] (reverse).
    private IndexTensor? interleave;

    // [2·T·B]: pair row r comes from output row 2r, pair row T·B + q from output row 2·reverse[q] + 1.
    private IndexTensor? split;
    private int steps;
    private int batch;

    public BidirectionalRows(int numLayers)
    {
        reversedInputs = [.. Enumerable.Range(0, numLayers).Select(_ => new Workspace())];
        outputs = [.. Enumerable.Range(0, numLayers).Select(_ => new Workspace())];
        outputRows = [.. Enumerable.Range(0, numLayers).Select(_ => new ShapeView())];
        gradientRows = [.. Enumerable.Range(0, numLayers).Select(_ => new ShapeView())];
    }

    /// <summary>Writes the permutations for (steps, batch) into the module's index buffers, unless they hold those already.</summary>
    public void Prepare(Device device, int steps, int batch)
    {
        if (reverse is not null && !reverse.IsDisposed && ReferenceEquals(reverse.Device, device) && this.steps == steps && this.batch == batch)
        {
            return;
        }

        int rows = steps * batch;
        var reversed = reverseBuffer.Stage(rows);
        var interleaved = interleaveBuffer.Stage(2 * rows);
        var splitted = splitBuffer.Stage(2 * rows);
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                int r = (t * batch) + b;
                int q = ((steps - 1 - t) * batch) + b;
                reversed[r] = q;
                interleaved[2 * r] = r;
                interleaved[(2 * r) + 1] = rows + q;
                splitted[r] = 2 * r;
                splitted[rows + q] = (2 * r) + 1;
            }
        }

        reverse = reverseBuffer.Upload(device, rows);
        interleave = interleaveBuffer.Upload(device, 2 * rows);
        split = splitBuffer.Upload(device, 2 * rows);
        (this.steps, this.batch) = (steps, batch);
    }

    /// <summary>Layer k's input [T·B, X] with the steps reversed, in a buffer of that layer's, kept for Backward.</summary>
    public Tensor ReversedInput(int k, Tensor input) => reversedInputs[k].GatherRows(input, reverse!);

    /// <summary>The token ids [T·B] with the steps reversed, in a buffer kept for Backward.</summary>
    public IndexTensor ReversedIds(IndexTensor ids)
    {
        var reversedIds = reversedIdsBuffer.Get(ids.Device, (int)ids.Length);
        Ops.GatherIndices(ids, reverse!, reversedIds);
        return reversedIds;
    }

    /// <summary>
    /// Layer k's output [T·B, 2H] from its directions' h <paramref name="pair"/> [2·T·B, H] (the reverse direction's in
    /// its own, reversed, step order): row r is the forward h of row r, then the reverse h of the same step.
    /// </summary>
    public Tensor Interleave(int k, Tensor pair)
    {
        int rows = pair.Rows / 2;
        var output = outputs[k].Get(pair.Device, rows, 2 * pair.Columns);
        Ops.GatherRows(pair, interleave!, outputRows[k].Matrix(output, 2 * rows, pair.Columns));
        return output;
    }

    /// <summary>
    /// dL/d(layer k's output) [T·B, 2H] as the two directions' dL/dh, [2·T·B, H]: the forward direction's rows, then the
    /// reverse direction's in its own step order.
    /// </summary>
    public Tensor Split(int k, Tensor outputGradient)
    {
        int rows = outputGradient.Rows;
        int hidden = outputGradient.Columns / 2;
        var pair = directionGradients.Get(outputGradient.Device, 2 * rows, hidden);
        Ops.GatherRows(gradientRows[k].Matrix(outputGradient, 2 * rows, hidden), split!, pair);
        return pair;
    }

    /// <summary>
    /// A scratch buffer [T·B, <paramref name="columns"/>] for the reverse direction's part of an input gradient, one for
    /// the module's input and one for the 2H-wide input of the layers above, so neither is resized per batch.
    /// </summary>
    public Tensor InputGradientScratch(Device device, int rows, int columns, bool moduleInput)
        => (moduleInput ? reversedInputGradient : reversedHiddenGradient).Get(device, rows, columns);

    /// <summary>Writes <paramref name="rows"/> with the steps reversed to <paramref name="output"/>.</summary>
    public void Unreverse(Tensor rows, Tensor output) => Ops.GatherRows(rows, reverse!, output);

    public void Dispose()
    {
        foreach (var w in reversedInputs.Concat(outputs))
        {
            w.Dispose();
        }

        directionGradients.Dispose();
        reversedInputGradient.Dispose();
        reversedHiddenGradient.Dispose();
        reverseBuffer.Dispose();
        interleaveBuffer.Dispose();
        splitBuffer.Dispose();
        reversedIdsBuffer.Dispose();
    }
}
