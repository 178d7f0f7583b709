namespace Tensorlet.Nn;

/// <summary>
/// What a convolution run by unfolding (im2col) does that does not depend on its spatial axes, shared by
/// <see cref="Conv1d"/> and <see cref="Conv2d"/>: with S input positions (L, or H·W) and P output positions (L_out, or
/// H_out·W_out), the input [N, C_in, S] is put group-major, [G·N, C_in/G·S] (<see cref="GroupMajorInput"/>: a gather
/// of whole rows, left out when G or N is 1); the layer unfolds it into <see cref="Columns"/>, G blocks of rows
/// [N·P, C_in/G·K] (K the kernel's taps), one per group; <see cref="Multiply"/> takes each group's block by its C_out/G
/// rows of the weight, read as [C_out, C_in/G·K], into its own block of product rows [N·P, C_out/G], adds the bias, and
/// lays the rows out as [G·N, C_out/G·P] and back in batch-major order, [N, C_out·P]. Backward
/// (<see cref="ColumnsGradient"/>) lays dy out as rows the same way, adds dyᵀ·columns to the weight's gradient and dy's
/// column sums to the bias's, and returns dy·W, which the layer folds (col2im) into <see cref="InputGradient"/> and
/// takes back to batch-major order (<see cref="InputGradientToBatchFirst"/>). Every buffer is the layer's and reused.
/// </summary>
internal sealed class UnfoldedConvolution(int groups) : IDisposable
{
    private readonly Workspace columns = new();
    private readonly Workspace outputRows = new();
    private readonly Workspace output = new();
    private readonly Workspace gradientRows = new();
    private readonly Workspace columnsGradient = new();
    private readonly Workspace inputGradient = new();
    private readonly ShapeView inputRows = new();
    private readonly ShapeView foldedOutput = new();
    private readonly ShapeView gradientRowsView = new();
    private readonly ShapeView gradientShaped = new();
    private readonly RecentViews<Tensor[]> columnGroups = new();
    private readonly RecentViews<Tensor[]> rowGroups = new();
    private readonly RecentViews<Tensor[]> gradientGroups = new();
    private readonly RecentViews<Tensor[]> columnGradientGroups = new();
    private readonly RecentViews<Tensor[]> parameterGroups = new();
    private readonly BatchFirstRows groupOrder = new();
    private Tensor? savedColumns;

    /// <summary>
    /// Throws, in one line naming <paramref name="layer"/>, when the padding is 'same' and the layer has a stride, as
    /// torch.nn's convolutions do ("padding='same' is not supported for strided convolutions").
    /// </summary>
    /// <exception cref="ArgumentException">The padding is 'same' and the stride is not 1.</exception>
    public static void CheckSame(string layer, bool same, bool strided, string stride)
    {
        if (same && strided)
        {
            throw new ArgumentException($"A {layer}'s padding 'same' needs stride 1 (PyTorch does not support it for strided convolutions); got stride {stride}.", "padding");
        }
    }

    /// <summary>
    /// Throws, in one line naming <paramref name="layer"/> and the values, unless C_in and C_out are both multiples of
    /// the groups, as torch.nn's convolutions say ("in_channels must be divisible by groups", or out_channels).
    /// </summary>
    /// <exception cref="ArgumentException">C_in or C_out is not a multiple of the groups.</exception>
    public static void CheckGroups(string layer, int inChannels, int outChannels, int groups)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            string which = inChannels % groups != 0 ? outChannels % groups != 0 ? "neither is" : "inChannels is not" : "outChannels is not";
            throw new ArgumentException($"A {layer}'s inChannels ({inChannels}) and outChannels ({outChannels}) must both be divisible by groups ({groups}); {which}.", nameof(groups));
        }
    }

    /// <summary>The input [N, C_in, S] as rows [G·N, C_in/G·S] in group-major order: the input itself where G or N is 1.</summary>
    public Tensor GroupMajorInput(Tensor source, int n, int groupSize) => Reorders(n) ? groupOrder.InputToTimeMajor(inputRows.Matrix(source, n * groups, groupSize), groups, n) : source;

    /// <summary>The buffer the layer unfolds its group-major input into, [G·N·P, C_in/G·K].</summary>
    public Tensor Columns(Device device, int groupRows, int groupWidth) => columns.Get(device, groups * groupRows, groupWidth);

    /// <summary>
    /// y as rows [N, C_out·P] from the unfolded input <paramref name="x"/> [G·N·P, C_in/G·K], the weight
    /// [C_out, C_in/G, ...] and the bias; x is kept for <see cref="ColumnsGradient"/>.
    /// </summary>
    public Tensor Multiply(Tensor x, Tensor weight, Tensor? bias, int n, int outPositions)
    {
        int groupRows = n * outPositions, groupOut = weight.Rows / groups;
        var rows = outputRows.Get(x.Device, groups * groupRows, groupOut);
        var xGroups = GroupsOf(x, groupRows, columnGroups);
        var rowsGroups = GroupsOf(rows, groupRows, rowGroups);
        var weightGroups = GroupsOf(weight, groupOut, parameterGroups);
        var biasGroups = bias is not null ? GroupsOf(bias, groupOut, parameterGroups) : null;
        for (int g = 0; g < groups; g++)
        {
            Ops.Gemm(xGroups[g], false, weightGroups[g], true, rowsGroups[g]);
            if (biasGroups is not null)
            {
                Ops.AddBias(rowsGroups[g], biasGroups[g]);
            }
        }

        // The product's rows [G·N·P, C_out/G] laid out as [G·N, C_out/G, P], then batch-major as [N, C_out·P].
        var laidOut = output.Get(x.Device, groups * n, groupOut * outPositions);
        Ops.Fold1d(rows, foldedOutput.Reshaped(laidOut, groups * n, groupOut, outPositions), 1, 1, 0, 0, 1);
        savedColumns = x;
        return Reorders(n) ? groupOrder.OutputToBatchFirst(laidOut) : laidOut;
    }

    /// <summary>
    /// Accumulates dweight += dyᵀ·columns and dbias += Σ dy group by group for dy [N, C_out, ...P] of the last
    /// <see cref="Multiply"/>, and returns the gradient of its unfolded input, dy·W [G·N·P, C_in/G·K]; null, with those
    /// GEMMs not run, when <paramref name="computeInputGradient"/> is false.
    /// </summary>
    public Tensor? ColumnsGradient(Tensor outputGradient, Parameter weight, Parameter? bias, int n, int outPositions, bool computeInputGradient)
    {
        var device = outputGradient.Device;
        int groupRows = n * outPositions, groupOut = weight.Value.Rows / groups;
        var dy = Reorders(n) ? groupOrder.OutputGradientToTimeMajor(gradientRowsView.Matrix(outputGradient, n * groups, groupOut * outPositions)) : outputGradient;
        var dyRows = gradientRows.Get(device, groups * groupRows, groupOut);
        Ops.Unfold1d(gradientShaped.Reshaped(dy, groups * n, groupOut, outPositions), dyRows, 1, 1, 0, 0, 1);
        var dyGroups = GroupsOf(dyRows, groupRows, gradientGroups);
        var xGroups = GroupsOf(savedColumns!, groupRows, columnGroups);
        var weightGradients = GroupsOf(weight.Gradient, groupOut, parameterGroups);
        var biasGradients = bias is not null ? GroupsOf(bias.Gradient, groupOut, parameterGroups) : null;
        for (int g = 0; g < groups; g++)
        {
            Ops.Gemm(dyGroups[g], true, xGroups[g], false, weightGradients[g], 1f, 1f);
            if (biasGradients is not null)
            {
                Ops.SumColumns(dyGroups[g], biasGradients[g], accumulate: true);
            }
        }

        if (!computeInputGradient)
        {
            return null;
        }

        var dColumns = columnsGradient.Get(device, groups * groupRows, savedColumns!.Columns);
        var dColumnGroups = GroupsOf(dColumns, groupRows, columnGradientGroups);
        var weightGroups = GroupsOf(weight.Value, groupOut, parameterGroups);
        for (int g = 0; g < groups; g++)
        {
            Ops.Gemm(dyGroups[g], false, weightGroups[g], false, dColumnGroups[g]);
        }

        return dColumns;
    }

    /// <summary>The buffer the layer folds the columns' gradient into, [G·N, C_in/G·S] in group-major order.</summary>
    public Tensor InputGradient(Device device, int n, int groupSize) => inputGradient.Get(device, groups * n, groupSize);

    /// <summary>The folded gradient [G·N, C_in/G·S] in batch-major order, [N, C_in·S]: itself where G or N is 1.</summary>
    public Tensor InputGradientToBatchFirst(Tensor folded, int n) => Reorders(n) ? groupOrder.InputGradientToBatchFirst(folded) : folded;

    public void Dispose()
    {
        columns.Dispose();
        outputRows.Dispose();
        output.Dispose();
        gradientRows.Dispose();
        columnsGradient.Dispose();
        inputGradient.Dispose();
        groupOrder.Dispose();
    }

    // Whether the groups' rows are reordered: with one group, or one sample, batch-major [N, G, ...] is group-major
    // [G, N, ...]. The reordering is a batch-first recurrent module's, with the G groups as its T steps and N as its B.
    private bool Reorders(int n) => groups > 1 && n > 1;

    // Group g's rows [g·rowsPerGroup, (g + 1)·rowsPerGroup) of `all`, for each g (one view of all of it with one group).
    private Tensor[] GroupsOf(Tensor all, int rowsPerGroup, RecentViews<Tensor[]> cache) => StepViews.Of(all, groups, rowsPerGroup, cache);
}
