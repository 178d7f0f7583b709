using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A <see cref="Conv1d"/>'s input padded by a <see cref="PaddingMode"/> other than zeros: x [N, C, L] → [N, C, left + L
/// + right], one gather of positions (<see cref="Ops.GatherPositions"/>) over the N·C rows through a map of left + L +
/// right indices, each padded position naming the position of x it copies (the same for every row); backward
/// (<see cref="Ops.GatherPositionsBackward"/>) gives each position of x the sum of the gradients of the padded positions
/// that copy it (an end position replicated, a position reflected or wrapped), through the map's inverse, in a fixed
/// order and without atomics, so dx is the same floats on every device and every run. The map and its inverse are
/// built on the host and uploaded only when L changes, into grow-only device buffers (<see cref="IndexWorkspace"/>)
/// whose size does not depend on N·C; the padded input and dx live in buffers of the module's, so steady-state training
/// allocates nothing.
/// </summary>
internal sealed class ModePadding(PaddingMode mode, int left, int right) : IDisposable
{
    private readonly Workspace padded = new();
    private readonly Workspace inputGradient = new();
    private readonly IndexWorkspace mapBuffer = new();
    private readonly IndexWorkspace startsBuffer = new();
    private readonly IndexWorkspace copiesBuffer = new();
    private readonly ShapeView inputRows = new();
    private readonly ShapeView paddedShaped = new();
    private readonly ShapeView gradientRows = new();
    private readonly ShapeView inputGradientShaped = new();
    private IndexTensor? map;
    private IndexTensor? starts;
    private IndexTensor? copies;
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
        Prepare(input.Device, inputLength);
        var result = padded.Get(input.Device, n * channels, paddedLength);
        Ops.GatherPositions(inputRows.Matrix(input, n * channels, inputLength), map!, result);
        return paddedShaped.Reshaped(result, n, channels, paddedLength);
    }

    /// <summary>dL/dx [N, C, L] from dL/d(padded) [N, C, left + L + right] (read, not changed), in a buffer kept until the next call.</summary>
    public Tensor Backward(Tensor paddedGradient)
    {
        int n = paddedGradient.Shape[0], channels = paddedGradient.Shape[1], paddedLength = paddedGradient.Shape[2], inputLength = paddedLength - left - right;
        var dx = inputGradient.Get(paddedGradient.Device, n * channels, inputLength);
        Ops.GatherPositionsBackward(gradientRows.Matrix(paddedGradient, n * channels, paddedLength), starts!, copies!, dx);
        return inputGradientShaped.Reshaped(dx, n, channels, inputLength);
    }

    public void Dispose()
    {
        padded.Dispose();
        inputGradient.Dispose();
        mapBuffer.Dispose();
        startsBuffer.Dispose();
        copiesBuffer.Dispose();
        (map, starts, copies) = (null, null, null);
    }

    // Builds the map for inputs of `length` and its inverse on the host and uploads them, only when the length or the
    // device changes: padded position p copies x position Source(p − left).
    private void Prepare(Device device, int length)
    {
        if (map is not null && !map.IsDisposed && !starts!.IsDisposed && !copies!.IsDisposed && ReferenceEquals(map.Device, device) && this.length == length)
        {
            return;
        }

        int paddedLength = left + length + right;
        var positions = mapBuffer.Stage(paddedLength);
        for (int p = 0; p < paddedLength; p++)
        {
            positions[p] = Source(p - left, length);
        }

        PositionGatherInverse.Build(positions, length, startsBuffer.Stage(length + 1), copiesBuffer.Stage(paddedLength));
        map = mapBuffer.Upload(device, paddedLength);
        starts = startsBuffer.Upload(device, length + 1);
        copies = copiesBuffer.Upload(device, paddedLength);
        this.length = length;
    }

    // The position of x that padded position i (0 at x's first) copies; Unfit keeps i within one reflection or wrap.
    private int Source(int i, int length) => i >= 0 && i < length ? i : mode switch
    {
        PaddingMode.Reflect => i < 0 ? -i : (2 * (length - 1)) - i,
        PaddingMode.Replicate => i < 0 ? 0 : length - 1,
        PaddingMode.Circular => i < 0 ? i + length : i - length,
        _ => throw new InvalidOperationException($"ModePadding does not pad with {mode}."),
    };
}
