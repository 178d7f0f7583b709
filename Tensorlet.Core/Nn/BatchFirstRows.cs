namespace Tensorlet.Nn;

/// <summary>
/// A batch-first recurrent module's reordering: row b·T + t of its input and output ([B, T, X]) is row t·B + b of the
/// time-major rows ([T·B, X]) its recurrence runs on. Each direction is one gather of whole rows
/// (<see cref="Ops.GatherRows"/>; <see cref="Ops.GatherIndices"/> for token ids) by a permutation held on the device,
/// built once per (B, T), into a buffer of its own that the module owns and reuses, so steady-state training allocates
/// nothing. A gather copies, so every float is the one the time-major module computes on the transposed data.
/// </summary>
internal sealed class BatchFirstRows : IDisposable
{
    private readonly Workspace timeMajorInput = new();
    private readonly Workspace batchFirstOutput = new();
    private readonly Workspace timeMajorOutputGradient = new();
    private readonly Workspace batchFirstInputGradient = new();

    // [T·B]: time-major row t·B + b comes from batch-first row b·T + t.
    private IndexTensor? toTimeMajor;

    // [B·T]: batch-first row b·T + t comes from time-major row t·B + b.
    private IndexTensor? toBatchFirst;
    private IndexTensor? timeMajorIds;
    private int steps;
    private int batch;

    /// <summary>The input rows [B·T, In] in time-major order [T·B, In], in a buffer kept until the next call (Backward reads it).</summary>
    public Tensor InputToTimeMajor(Tensor input, int steps, int batch)
    {
        Prepare(input.Device, steps, batch);
        return timeMajorInput.GatherRows(input, toTimeMajor!);
    }

    /// <summary>The token ids [B·T] in time-major order [T·B], in a buffer kept until the next call (Backward reads it).</summary>
    public IndexTensor IdsToTimeMajor(IndexTensor ids, int steps, int batch)
    {
        Prepare(ids.Device, steps, batch);
        if (timeMajorIds is null || timeMajorIds.Length != ids.Length || !ReferenceEquals(timeMajorIds.Device, ids.Device))
        {
            timeMajorIds?.Dispose();
            timeMajorIds = ids.Device.IndexZeros((int)ids.Length);
        }

        Ops.GatherIndices(ids, toTimeMajor!, timeMajorIds);
        return timeMajorIds;
    }

    /// <summary>The last call's time-major output rows [T·B, H] in batch-first order [B·T, H].</summary>
    public Tensor OutputToBatchFirst(Tensor output) => batchFirstOutput.GatherRows(output, toBatchFirst!);

    /// <summary>dL/d(output) in batch-first rows [B·T, H] as the time-major rows [T·B, H] the recurrence's backward takes.</summary>
    public Tensor OutputGradientToTimeMajor(Tensor outputGradient) => timeMajorOutputGradient.GatherRows(outputGradient, toTimeMajor!);

    /// <summary>dL/d(input) in time-major rows [T·B, In] as the batch-first rows [B·T, In] of the module's input.</summary>
    public Tensor InputGradientToBatchFirst(Tensor inputGradient) => batchFirstInputGradient.GatherRows(inputGradient, toBatchFirst!);

    public void Dispose()
    {
        timeMajorInput.Dispose();
        batchFirstOutput.Dispose();
        timeMajorOutputGradient.Dispose();
        batchFirstInputGradient.Dispose();
        toTimeMajor?.Dispose();
        toBatchFirst?.Dispose();
        timeMajorIds?.Dispose();
    }

    // The two permutations for (steps, batch) on the device, made only when one of them changes.
    private void Prepare(Device device, int steps, int batch)
    {
        if (toTimeMajor is not null && !toTimeMajor.IsDisposed && ReferenceEquals(toTimeMajor.Device, device) && this.steps == steps && this.batch == batch)
        {
            return;
        }

        var timeMajor = new int[steps * batch];
        var batchFirst = new int[steps * batch];
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                timeMajor[(t * batch) + b] = (b * steps) + t;
                batchFirst[(b * steps) + t] = (t * batch) + b;
            }
        }

        toTimeMajor?.Dispose();
        toBatchFirst?.Dispose();
        toTimeMajor = device.IndexFromArray(timeMajor, timeMajor.Length);
        toBatchFirst = device.IndexFromArray(batchFirst, batchFirst.Length);
        (this.steps, this.batch) = (steps, batch);
    }
}
