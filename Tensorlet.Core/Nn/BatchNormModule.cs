using System.Globalization;
using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A batch normalization (<see cref="BatchNorm1d"/>, <see cref="BatchNorm2d"/>): each channel of the input becomes
/// (x − mean)/√(var + ε)·weight + bias, the channels on dimension 1 as in PyTorch (unlike <see cref="Linear"/> and
/// <see cref="LayerNorm"/>, which work on the last dimension), channel c's statistics taken over all its values: an
/// input [N, C, H, W] is normalized as its view [N, C, H·W], so both layers run the same kernels. In training
/// (<see cref="Module.Train"/>) it normalizes with the batch's mean and biased variance and updates <c>running_mean</c>
/// and <c>running_var</c> with <see cref="Momentum"/> and the unbiased variance, counting the batches in
/// <c>num_batches_tracked</c>; in evaluation (<see cref="Module.Eval"/>) it normalizes with the running statistics. Made
/// with <c>trackRunningStats: false</c> it has no running statistics and always uses the batch's, so it needs more than
/// one value per channel in evaluation too. <c>weight</c> [C] starts at ones and <c>bias</c> [C] at zeros;
/// <c>running_mean</c> [C] at zeros, <c>running_var</c> [C] at ones and <c>num_batches_tracked</c> (an int64 scalar) at 0,
/// all three buffers (<see cref="ModuleBuffer"/>): in the state_dict, but not parameters. As PyTorch does, a state_dict
/// without <c>num_batches_tracked</c> loads and sets it to 0, and one that holds it as a float whole number ≥ 0 loads.
/// </summary>
public abstract class BatchNormModule : Module
{
    private readonly string layer;
    private readonly bool spatial;
    private readonly Workspace output = new();
    private readonly Workspace batchMean = new();
    private readonly Workspace batchVariance = new();
    private readonly Workspace inputGradient = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientShaped = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly ShapeView inputPlanes = new();
    private readonly ShapeView outputSpatial = new();
    private readonly ShapeView inputGradientSpatial = new();
    private readonly ModuleBuffer? runningMean;
    private readonly ModuleBuffer? runningVariance;
    private readonly ModuleBuffer? numBatchesTracked;
    private Parameter? weight;
    private Parameter? bias;
    private Tensor? savedInput;
    private Tensor? savedSource;
    private Tensor? savedMean;
    private Tensor? savedVariance;
    private bool savedBatchStatistics;

    // spatial: the layer takes [N, C, H, W] (BatchNorm2d), else [N, C] or [N, C, L] (BatchNorm1d).
    private protected BatchNormModule(string layer, bool spatial, int numFeatures, float epsilon, float? momentum, bool affine, bool trackRunningStats)
    {
        this.layer = layer;
        this.spatial = spatial;
        ArgumentChecks.ThrowIfNegativeOrZero(numFeatures);
        if (!(epsilon >= 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), string.Create(CultureInfo.InvariantCulture, $"{layer}'s epsilon must be a finite number ≥ 0; got {epsilon}."));
        }

        if (momentum is { } m && !(m is >= 0f and <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), string.Create(CultureInfo.InvariantCulture, $"{layer}'s momentum must be in [0, 1], or null for a cumulative average; got {momentum}."));
        }

        NumFeatures = numFeatures;
        Epsilon = epsilon;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        if (trackRunningStats)
        {
            runningMean = RegisterBuffer("running_mean", [numFeatures], 0f);
            runningVariance = RegisterBuffer("running_var", [numFeatures], 1f);
            // Optional, as in PyTorch: state_dicts saved before the count existed, or without version metadata, lack it.
            numBatchesTracked = RegisterInt64Buffer("num_batches_tracked", [], optionalInStateDict: true);
        }
    }

    /// <summary>C, the number of channels (dimension 1 of the input).</summary>
    public int NumFeatures { get; }

    /// <summary>ε, added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>The running statistics' update factor; null for their cumulative average.</summary>
    public float? Momentum { get; }

    /// <summary>Whether the layer has <c>weight</c> and <c>bias</c>.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics (and uses them in evaluation).</summary>
    public bool TrackRunningStats { get; }

    /// <summary>The weight [C]; null for a layer made with <c>affine: false</c>.</summary>
    public Parameter? Weight => Affine ? weight ?? throw NotBuiltError() : null;

    /// <summary>The bias [C]; null for a layer made with <c>affine: false</c>.</summary>
    public Parameter? Bias => Affine ? bias ?? throw NotBuiltError() : null;

    /// <summary>The running mean [C] (<c>running_mean</c>); null for a layer made with <c>trackRunningStats: false</c>.</summary>
    public ModuleBuffer? RunningMean => runningMean;

    /// <summary>The running (unbiased) variance [C] (<c>running_var</c>); null for a layer made with <c>trackRunningStats: false</c>.</summary>
    public ModuleBuffer? RunningVar => runningVariance;

    /// <summary>The training batches the running statistics have seen (<c>num_batches_tracked</c>); 0 without running statistics.</summary>
    public long NumBatchesTracked => numBatchesTracked is null || !IsBuilt ? 0 : numBatchesTracked.Int64Values[0];

    /// <summary>
    /// y, shaped as the input, = (x − mean)/√(var + ε)·weight + bias per channel: the batch's statistics in training (the
    /// running ones updated), the running ones in evaluation.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not [N, C] or [N, C, L] (BatchNorm1d) or [N, C, H, W] (BatchNorm2d)
    /// with this layer's C and no empty dimension past it, is on another device than the layer, or holds one value per
    /// channel where the batch's statistics are used (in training, or always without running statistics); nothing
    /// changed.</exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        bool rank = spatial ? input.Rank == 4 : input.Rank is 2 or 3;
        if (!rank || input.Shape[1] != NumFeatures || (input.Rank > 2 && input.Shape[^1] == 0) || (input.Rank == 4 && input.Shape[2] == 0))
        {
            string takes = spatial ? $"[N, {NumFeatures}, H, W]" : $"[N, {NumFeatures}] or [N, {NumFeatures}, L]";
            throw new ArgumentException(
                $"{layer}({NumFeatures}) takes {takes} input, channels on dimension 1, but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        var source = input;
        if (spatial)
        {
            input = inputPlanes.Reshaped(source, source.Shape[0], NumFeatures, source.Shape[2] * source.Shape[3]);
        }

        var device = input.Device;
        long perChannel = input.Length / NumFeatures;
        bool batchStatistics = Training || !TrackRunningStats;
        if (batchStatistics && perChannel <= 1)
        {
            // PyTorch's words, in evaluation too when the batch's statistics are used: a variance of one value is 0,
            // and the running variance's M − 1 would be 0.
            string remedy = Training
                ? "give batches of at least 2 examples, or set TrainerOptions.DropLast to skip a last batch of one"
                : "made with trackRunningStats: false, the layer normalizes with the batch's statistics in evaluation too";
            throw new ArgumentException(
                $"{layer}({NumFeatures}) expected more than 1 value per channel when training, got input of shape {source.ShapeText}: {remedy}.",
                nameof(input));
        }

        if (batchStatistics)
        {
            var mean = batchMean.Get(device, NumFeatures, 1);
            var variance = batchVariance.Get(device, NumFeatures, 1);
            if (Training && TrackRunningStats)
            {
                // Counted once the statistics are taken, so a refused batch leaves the count as it was.
                long batches = numBatchesTracked!.Int64Values[0] + 1;
                float factor = Momentum ?? (float)(1.0 / batches);
                Ops.BatchNormStatistics(input, mean, variance, runningMean!.Value, runningVariance!.Value, factor);
                numBatchesTracked.Int64Values[0] = batches;
            }
            else
            {
                Ops.BatchNormStatistics(input, mean, variance, null, null, 0f);
            }

            savedMean = mean;
            savedVariance = variance;
        }
        else
        {
            savedMean = runningMean!.Value;
            savedVariance = runningVariance!.Value;
        }

        var y = Like(output, outputShaped, input);
        Ops.BatchNormForward(input, savedMean, savedVariance, Weight?.Value, Bias?.Value, Epsilon, y);
        savedInput = input;
        savedSource = source;
        savedBatchStatistics = batchStatistics;
        return LastOutput = spatial ? outputSpatial.Like(y, source, source.Shape[3]) : y;
    }

    /// <summary>
    /// Accumulates dweight += Σ dy·x̂ and dbias += Σ dy per channel, and returns dx, shaped as the input; through the batch's
    /// statistics when the forward used them, else through the running ones as constants.
    /// </summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var dy = x.Rank == 2 ? outputGradient : gradientShaped.Like(outputGradient, x, x.Shape[2]);
        var dx = Like(inputGradient, inputGradientShaped, x);
        var w = Weight;
        var b = Bias;
        Ops.BatchNormBackward(x, savedMean!, savedVariance!, w?.Value, Epsilon, dy, dx, w?.Gradient, b?.Gradient, savedBatchStatistics);
        var source = savedSource!;
        return spatial ? inputGradientSpatial.Like(dx, source, source.Shape[3]) : dx;
    }

    /// <summary>Registers <c>weight</c> [C] (ones) and <c>bias</c> [C] (zeros) for an affine layer.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (Affine)
        {
            weight = parameters.Add(JoinName(prefix, "weight"), [NumFeatures], _ => 1f);
            bias = parameters.Add(JoinName(prefix, "bias"), [NumFeatures], _ => 0f);
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        batchMean.Dispose();
        batchVariance.Dispose();
        inputGradient.Dispose();
    }

    // A buffer of x's shape from the workspace: [N, C] itself, [N, C, L] a view of its [N·C, L].
    private static Tensor Like(Workspace workspace, ShapeView view, Tensor x)
        => x.Rank == 2
            ? workspace.Get(x.Device, x.Shape[0], x.Shape[1])
            : view.Like(workspace.Get(x.Device, x.Shape[0] * x.Shape[1], x.Shape[2]), x, x.Shape[2]);
}
