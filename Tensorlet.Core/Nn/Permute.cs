using System.Collections.ObjectModel;

namespace Tensorlet.Nn;

/// <summary>
/// x.permute(dims) as a module (torchvision.ops.Permute): output dimension i is input dimension dims[i], so
/// <c>new Permute(0, 2, 1)</c> takes an <see cref="Embedding"/>'s [N, L, E] to the [N, E, L] a <see cref="Conv1d"/>
/// reads, and a second one takes the Conv1d's [N, C, L] back to [N, L, C]. A negative dim counts from the last (−1).
/// The output is contiguous: a copy into a buffer the module owns and reuses, except where no element moves (the
/// identity, or dimensions of size 1 moved), where it is a view of the input. Backward applies the inverse permutation
/// to dy. The copies are a gather of whole rows where the last dimension stays last, else a batched transpose after
/// one (<see cref="PermutePlan"/>), so every float is the input's, and the permutations of rows are remade only when
/// the input's shape changes, into buffers that only grow: varying shapes allocate nothing once each has been seen.
/// </summary>
public sealed class Permute : Module
{
    private readonly int[] dims;
    private readonly string described;
    private readonly Workspace output = new();
    private readonly Workspace reordered = new();
    private readonly Workspace inputGradient = new();
    private readonly IndexWorkspace rowOrderBuffer = new();
    private readonly IndexWorkspace inverseOrderBuffer = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView inputRows = new();
    private readonly ShapeView channelsFirst = new();
    private readonly ShapeView gradientRows = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly int[] plannedShape;
    private Device? plannedDevice;
    private PermutePlan plan;
    private IndexTensor? rowOrder;
    private IndexTensor? inverseOrder;
    private Tensor? savedInput;

    /// <summary>Creates the permutation; it has no parameters.</summary>
    /// <param name="dims">
    /// One per dimension of the input, output dimension i being input dimension dims[i]: a permutation of 0..rank − 1,
    /// each in [−rank, rank), a negative one counting from the last.
    /// </param>
    /// <exception cref="ArgumentException">dims is empty or names a dimension twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is outside [−rank, rank), rank being the number of dims.</exception>
    public Permute(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        described = $"Permute({string.Join(", ", dims)})";
        int rank = dims.Length;
        if (rank == 0)
        {
            throw new ArgumentException("Permute takes one dim per dimension of its input, at least one; got none.", nameof(dims));
        }

        this.dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = dims[i];
            if (d < -rank || d >= rank)
            {
                throw new ArgumentOutOfRangeException(nameof(dims), $"{described}: dim {d} is outside [-{rank}, {rank}), the dimensions of the rank-{rank} input it permutes (one dim per dimension).");
            }

            this.dims[i] = d < 0 ? d + rank : d;
            if (Array.IndexOf(this.dims, this.dims[i], 0, i) >= 0)
            {
                throw new ArgumentException($"{described} names dimension {this.dims[i]} twice: dims must be a permutation of 0..{rank - 1} (a negative dim counting from the last).", nameof(dims));
            }
        }

        Dims = new ReadOnlyCollection<int>(this.dims);
        plannedShape = new int[rank];
    }

    /// <summary>Output dimension i is input dimension Dims[i]; each in [0, rank), a negative dim already counted from the last.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <summary>x permuted, contiguous: shape [x.Shape[Dims[0]], x.Shape[Dims[1]], ...].</summary>
    /// <exception cref="ArgumentException">The input's rank is not the number of dims.</exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Rank != dims.Length)
        {
            throw new ArgumentException($"{described} permutes the {dims.Length} dimensions of its input but got a tensor of shape {input.ShapeText}, of rank {input.Rank}.", nameof(input));
        }

        Prepare(input);
        Span<int> shape = stackalloc int[dims.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = input.Shape[dims[i]];
        }

        savedInput = input;
        var device = input.Device;
        var (kind, rows, width, batch, channels, reorders) = plan;
        switch (kind)
        {
            case PermuteKind.View:
                return LastOutput = outputShaped.Reshaped(input, shape);
            case PermuteKind.Rows:
                var y = output.Get(device, rows, width);
                Ops.GatherRows(inputRows.Matrix(input, rows, width), rowOrder!, y);
                return LastOutput = outputShaped.Reshaped(y, shape);
            default:
                // [Batch, Channels, L] → [Batch·L, Channels], the output's layout.
                var z = reorders ? reordered.GatherRows(inputRows.Matrix(input, rows, width), rowOrder!) : input;
                var transposed = output.Get(device, batch * width, channels);
                Ops.Unfold1d(channelsFirst.Reshaped(z, batch, channels, width), transposed, 1, 1, 0, 0, 1);
                return LastOutput = outputShaped.Reshaped(transposed, shape);
        }
    }

    /// <summary>dx = dy permuted back (by the inverse of <see cref="Dims"/>), shaped as the input.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var device = x.Device;
        var (kind, rows, width, batch, channels, reorders) = plan;
        Tensor dx;
        switch (kind)
        {
            case PermuteKind.View:
                dx = outputGradient;
                break;
            case PermuteKind.Rows:
                dx = inputGradient.Get(device, rows, width);
                Ops.GatherRows(gradientRows.Matrix(outputGradient, rows, width), inverseOrder!, dx);
                break;
            default:
                var dz = (reorders ? reordered : inputGradient).Get(device, rows, width);
                Ops.Fold1d(gradientRows.Matrix(outputGradient, batch * width, channels), channelsFirst.Reshaped(dz, batch, channels, width), 1, 1, 0, 0, 1);
                dx = reorders ? inputGradient.GatherRows(dz, inverseOrder!) : dz;
                break;
        }

        return inputGradientShaped.Like(dx, x, x.Shape[^1]);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        reordered.Dispose();
        inputGradient.Dispose();
        rowOrderBuffer.Dispose();
        inverseOrderBuffer.Dispose();
    }

    // The plan for the input's shape, and its row permutations on the input's device: remade only when either changes.
    private void Prepare(Tensor input)
    {
        if (ReferenceEquals(plannedDevice, input.Device) && SameShape(input) && (!plan.Reorders || rowOrder is { IsDisposed: false }))
        {
            return;
        }

        plan = PermutePlan.For(input.Shape, dims);
        if (plan.Reorders)
        {
            var order = rowOrderBuffer.Stage(plan.Rows);
            var inverse = inverseOrderBuffer.Stage(plan.Rows);
            PermutePlan.WriteRowOrder(input.Shape, dims, order);
            for (int k = 0; k < order.Length; k++)
            {
                inverse[order[k]] = k;
            }

            rowOrder = rowOrderBuffer.Upload(input.Device, plan.Rows);
            inverseOrder = inverseOrderBuffer.Upload(input.Device, plan.Rows);
        }

        for (int d = 0; d < plannedShape.Length; d++)
        {
            plannedShape[d] = input.Shape[d];
        }

        plannedDevice = input.Device;
    }

    private bool SameShape(Tensor input)
    {
        for (int d = 0; d < plannedShape.Length; d++)
        {
            if (plannedShape[d] != input.Shape[d])
            {
                return false;
            }
        }

        return true;
    }
}
