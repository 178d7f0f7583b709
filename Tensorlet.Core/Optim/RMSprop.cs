using System.Globalization;
using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.RMSprop over every parameter, as one fused kernel (one per run of consecutive parameters of one
/// <see cref="ParameterGroup"/>): weight decay added to the gradient, then the mean square s = α·s + (1 − α)·g²
/// and, centered, the mean gradient a = α·a + (1 − α)·g; then d = √max(s − a², 0) + ε (√s + ε uncentered), and
/// p −= lr·g/d, or with momentum μ, b = μ·b + g/d and p −= lr·b, as PyTorch 1.13 does (the clamp at 0 only where
/// rounding would leave s − a² negative and torch would give NaN).
/// </summary>
public sealed class RMSprop : Optimizer
{
    private readonly Tensor squareAverage;
    private readonly Tensor? momentumBuffer;
    private readonly Tensor? gradientAverage;
    private readonly TrainableRuns trainable;

    /// <summary>
    /// Creates the optimizer over every parameter, one group, with PyTorch's defaults, and its zeroed mean square on the
    /// parameters' device; a momentum buffer only when <paramref name="momentum"/> is not 0, a mean gradient only when
    /// <paramref name="centered"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate, ε, weight decay or momentum is negative or not finite, or α is outside [0, 1).</exception>
    public RMSprop(ParameterCollection parameters, float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float weightDecay = 0f, float momentum = 0f, bool centered = false)
        : this(ParameterGroupLayout.Whole(parameters, Defaults(learningRate, alpha, epsilon, weightDecay, momentum, centered)))
    {
    }

    /// <summary>
    /// Creates the optimizer over parameter groups, as <c>torch.optim.RMSprop(param_groups, ...)</c>: each group's learning
    /// rate, weight decay, momentum, ε, α and centered, where it sets them, else these. A momentum buffer is allocated
    /// when a group has momentum (a group of momentum 0 takes plain steps, as in PyTorch), and a mean gradient when a parameter's
    /// group is centered, each for every parameter and used only in those groups' runs.
    /// </summary>
    /// <exception cref="ArgumentException">No group, a parameter of another model, one in two groups, a trainable one in none, or a group that sets betas or amsgrad.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (a group's is named <c>groups[i].Alpha</c>).</exception>
    public RMSprop(IEnumerable<ParameterGroup> groups, float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float weightDecay = 0f, float momentum = 0f, bool centered = false)
        : this(ParameterGroupLayout.Resolve(groups, Defaults(learningRate, alpha, epsilon, weightDecay, momentum, centered), nameof(RMSprop)))
    {
    }

    // Over the resolved groups.
    private RMSprop(ParameterGroupLayout groups)
        : base(groups)
    {
        var parameters = groups.Parameters;
        int count = checked((int)parameters.Length);
        squareAverage = parameters.Device!.Zeros(count);
        if (groups.Momenta.Any(m => m != 0f))
        {
            momentumBuffer = parameters.Device.Zeros(count);
        }

        if (groups.KeepsState(groups.Centered))
        {
            gradientAverage = parameters.Device.Zeros(count);
        }

        // The kernel takes the values in the place of a state it does not use, and never reads them there.
        trainable = groups.Runs(parameters.Values, parameters.Gradients, squareAverage, momentumBuffer ?? parameters.Values, gradientAverage ?? parameters.Values);
    }

    /// <summary>α, the decay of the mean square (the default of the groups that set none).</summary>
    public float Alpha => Groups.Defaults.Alpha!.Value;

    /// <summary>ε, added after the square root (the default of the groups that set none).</summary>
    public float Epsilon => Groups.Defaults.Epsilon!.Value;

    /// <summary>The L2 penalty added to the gradient (the default of the groups that set none).</summary>
    public float WeightDecay => Groups.Defaults.WeightDecay;

    /// <summary>μ (the default of the groups that set none).</summary>
    public float Momentum => Groups.Defaults.Momentum!.Value;

    /// <summary>Whether the mean square is centered by the mean gradient's square, an estimate of the variance (the default of the groups that set none).</summary>
    public bool Centered => Groups.Defaults.Centered!.Value;

    /// <summary>Whether the optimizer keeps a mean gradient: some parameter's group is centered.</summary>
    internal bool HasGradientAverage => gradientAverage is not null;

    /// <summary>Whether the optimizer keeps a momentum buffer: some group has momentum.</summary>
    internal bool HasMomentumBuffer => momentumBuffer is not null;

    /// <inheritdoc/>
    public override void Step()
    {
        var runs = trainable.Runs;
        StepCount++;
        foreach (var run in runs)
        {
            int g = run.Group;
            Ops.RMSpropStep(run[0], run[1], run[2], run[3], run[4], Groups.GetLearningRate(g), Groups.Alphas[g], Groups.Epsilons[g], Groups.WeightDecays[g], Groups.Momenta[g], Groups.Centered[g]);
        }
    }

    /// <summary>A copy of the state on the host (torch.optim.RMSprop's state_dict: the step, its buffers, the groups, each one's centered and their current and initial learning rates), for checkpoints.</summary>
    public RMSpropState SaveState() => new(StepCount, squareAverage.ToArray(), momentumBuffer?.ToArray(), gradientAverage?.ToArray())
    {
        Centered = [.. Groups.Centered],
        Groups = Groups.SaveGroups(),
        LearningRates = Groups.SaveLearningRates(),
        InitialLearningRates = Groups.SaveInitialLearningRates(),
    };

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, so training resumes exactly, with each group's learning rate
    /// when the state holds them and its initial learning rate (as torch's load_state_dict; a state without initial
    /// rates gives the rates the optimizer was made with). A state of another kind (with a momentum buffer or a mean
    /// gradient where this optimizer has none, or the other way round), of another size, that no training gives, of
    /// other parameter groups, or of a group whose centered is not this optimizer's group's, is refused and nothing changes. A centered mean square below its mean gradient's square
    /// loads: float rounding drifts s below a² by about 2⁻²⁴/(1 − α) of a² under steady gradients (4 % at
    /// α = 0.999999), so training gives such states, and the step clamps s − a² at 0, stepping from one as from s = a².
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">The state does not fit, as above, or a value of it is NaN, an infinity other than a mean square's +∞ (which a gradient whose square overflows float gives), or a negative mean square.</exception>
    public void LoadState(RMSpropState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentChecks.ThrowIfNegative(state.Step);
        Buffer(state.SquareAverage, squareAverage, "square_avg", "mean square (square_avg)", "it always does", "");
        Buffer(state.MomentumBuffer, momentumBuffer, "momentum_buffer", "momentum buffer (momentum_buffer)", "it has momentum", "no group has momentum");
        Buffer(state.GradientAverage, gradientAverage, "grad_avg", "mean gradient (grad_avg)", StateChecks.Which(Groups.Centered, "centered"), StateChecks.Which(Groups.Centered, "centered"));
        StateChecks.Groups(Groups, state.Groups, state.LearningRates, state.InitialLearningRates, nameof(state));
        StateChecks.GroupFlags(Groups.Centered, state.Centered, state.GradientAverage is not null, "RMSprop", "centered", nameof(state));

        squareAverage.CopyFrom(state.SquareAverage);
        if (state.MomentumBuffer is { } buffer)
        {
            momentumBuffer!.CopyFrom(buffer);
        }

        if (state.GradientAverage is { } average)
        {
            gradientAverage!.CopyFrom(average);
        }

        StepCount = state.Step;
        Groups.LoadLearningRates(state.LearningRates, state.InitialLearningRates);

        // Throws unless the saved buffer (torch's state name) is there exactly when this optimizer keeps one (why: whyOne, whyNone), of its length, holding values training gives.
        void Buffer(float[]? saved, Tensor? own, string name, string what, string whyOne, string whyNone)
        {
            if ((saved is null) != (own is null))
            {
                throw new ArgumentException(saved is null
                    ? $"The saved RMSprop state has no {what}, but this optimizer keeps one: {whyOne}."
                    : $"The saved RMSprop state has a {what}, but this optimizer keeps none: {whyNone}.", nameof(state));
            }

            if (saved is null)
            {
                return;
            }

            if (saved.Length != own!.Length)
            {
                throw new ArgumentException($"The saved RMSprop state's {what} holds {saved.Length} values but the model has {own.Length} parameters.", nameof(state));
            }

            StateChecks.Values(saved, name, $"RMSprop state's {what}", nameof(state));
        }
    }

    /// <summary>Frees the optimizer's buffers.</summary>
    public override void Dispose()
    {
        squareAverage.Dispose();
        momentumBuffer?.Dispose();
        gradientAverage?.Dispose();
    }

    // The settings every constructor takes, as the groups' defaults.
    private static GroupDefaults Defaults(float learningRate, float alpha, float epsilon, float weightDecay, float momentum, bool centered)
        => new(learningRate, weightDecay, Momentum: momentum, Epsilon: epsilon, Alpha: alpha, Centered: centered);
}
