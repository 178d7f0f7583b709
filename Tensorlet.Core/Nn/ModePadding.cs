namespace Tensorlet.Nn;

/// <summary>
/// A <see cref="Conv1d"/>'s input padded by a <see cref="PaddingMode"/> other than zeros: x [N, C, L] → [N, C, left + L
/// + right], one gather (<see cref="Ops.GatherRows"/> of single values) by an index map held on the device, each padded
/// element naming the element of x it copies, written through a host staging array of at most
/// <see cref="StageChunk"/> indices, so the host holds no copy of the map; backward zeroes dx and scatter-adds (<see cref="Ops.ScatterAddRows(Tensor, IndexTensor, Tensor)"/>) the
/// padded gradient back through the same map, so an element copied to several positions (an end position replicated, a
/// position reflected or wrapped) gets the sum of their gradients. The map is remade only when N·C or L changes, into a
/// grow-only buffer (<see cref="IndexWorkspace"/>), and the padded input and dx live in buffers of the module's, so
/// steady-state training allocates nothing. On the ILGPU devices the scatter adds by atomics, so a sum of several
/// contributions may differ from run to run in its last bits, as an embedding's gradient does.
/// </summary>
internal sealed class ModePadding(PaddingMode mode, int left, int right) : IDisposable
{
    /// <summary>The most indices staged on the host at once while the map is written, in as many uploads as it takes.</summary>
    internal const int StageChunk = 1 << 14;

    private readonly Workspace padded = new();
    private readonly Workspace inputGradient = new();
    private readonly IndexWorkspace mapBuffer = new();
    private readonly ShapeView values = new();
    private readonly ShapeView paddedShaped = new();
    private readonly ShapeView gradientValues = new();
    private readonly ShapeView inputGradientShaped = new();
    private IndexTensor? map;
    private int rows;
    private int length;

    /// <summary>
    /// Why the mode cannot pad an input of length <paramref name="inputLength"/> by <paramref name="left"/> and
    /// <paramref name="right"/> positions, as a clause for the layer's one-line refusal, or null where it can: reflect
    /// needs each side below the length, circular at most the length (one wrap), as PyTorch's F.pad.
    /// </summary>
    public static string? Unfit(PaddingMode mode, int left, int right, int inputLength) => mode switch
    {
        PaddingMode.Reflect when left >= inputLength || right >= inputLength => $"pads by reflection, which needs each side's padding below the input length ({left} before, {right} after)",
        PaddingMode.Circular when left > inputLength || right > inputLength => $"pads circularly, which wraps around at most once: each side's padding must be at most the input length ({left} before, {right} after)",
        _ => null,
    };

    /// <summary>x [N, C, L] padded, [N, C, left + L + right], in a buffer kept until the next call.</summary>
    public Tensor Forward(Tensor input)
    {
        int n = input.Shape[0], channels = input.Shape[1], inputLength = input.Shape[2], paddedLength = left + inputLength + right;
        Prepare(input.Device, n * channels, inputLength);
        var result = padded.Get(input.Device, n * channels * paddedLength, 1);
        Ops.GatherRows(values.Matrix(input, n * channels * inputLength, 1), map!, result);
        return paddedShaped.Reshaped(result, n, channels, paddedLength);
    }

    /// <summary>dL/dx [N, C, L] from dL/d(padded) [N, C, left + L + right] (read, not changed), in a buffer kept until the next call.</summary>
    public Tensor Backward(Tensor paddedGradient)
    {
        int n = paddedGradient.Shape[0], channels = paddedGradient.Shape[1], inputLength = paddedGradient.Shape[2] - left - right;
        var dx = inputGradient.Get(paddedGradient.Device, n * channels * inputLength, 1);
        Ops.Fill(dx, 0f);
        Ops.ScatterAddRows(gradientValues.Matrix(paddedGradient, (int)paddedGradient.Length, 1), map!, dx);
        return inputGradientShaped.Reshaped(dx, n, channels, inputLength);
    }

    public void Dispose()
    {
        padded.Dispose();
        inputGradient.Dispose();
        mapBuffer.Dispose();
        map = null;
    }

    /// <summary>The indices the host staging array holds between calls: at most <see cref="StageChunk"/>, whatever the map's size.</summary>
    internal int StagedCapacity => mapBuffer.StagedCapacity;

    // Writes the map for `rows` rows of `length` into the module's index buffer, only when one of them changes: padded
    // element r·(left + L + right) + p copies x element r·L + Source(p − left). It is staged StageChunk indices at a
    // time, so the host keeps no array of the map's N·C·(left + L + right) indices for the layer's lifetime.
    private void Prepare(Device device, int rows, int length)
    {
        if (map is not null && !map.IsDisposed && ReferenceEquals(map.Device, device) && this.rows == rows && this.length == length)
        {
            return;
        }

        int paddedLength = left + length + right, total = rows * paddedLength;
        var target = mapBuffer.Get(device, total);
        var staged = mapBuffer.Stage(Math.Min(total, StageChunk));
        for (int start = 0; start < total; start += staged.Length)
        {
            int count = Math.Min(staged.Length, total - start);
            for (int i = 0; i < count; i++)
            {
                (int r, int p) = Math.DivRem(start + i, paddedLength);
                staged[i] = (r * length) + Source(p - left, length);
            }

            target.Slice(start, count).CopyFrom(staged[..count]);
        }

        map = target;
        (this.rows, this.length) = (rows, length);
    }

    // The position of x that padded position i (0 at x's first) copies; CheckFits keeps i within one reflection or wrap.
    private int Source(int i, int length) => i >= 0 && i < length ? i : mode switch
    {
        PaddingMode.Reflect => i < 0 ? -i : (2 * (length - 1)) - i,
        PaddingMode.Replicate => i < 0 ? 0 : length - 1,
        PaddingMode.Circular => i < 0 ? i + length : i - length,
        _ => throw new InvalidOperationException($"ModePadding does not pad with {mode}."),
    };
}
