using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.SGD over every parameter, as one fused kernel (one per run of consecutive parameters of one
/// <see cref="ParameterGroup"/>): weight decay added to the gradient, then momentum
/// (the buffer starts as the first gradient; later buf = μ·buf + (1 − dampening)·g), classic or Nesterov, then p −= lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor? momentumBuffer;
    private readonly TrainableRuns trainable;

    /// <summary>Creates the optimizer over every parameter, one group; a momentum buffer is allocated only when <paramref name="momentum"/> is not 0.</summary>
    public Sgd(ParameterCollection parameters, float learningRate, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : this(ParameterGroupLayout.Whole(parameters, Checked(learningRate, momentum, dampening, weightDecay, nesterov)), dampening, nesterov)
    {
    }

    /// <summary>
    /// Creates the optimizer over parameter groups, as <c>torch.optim.SGD(param_groups, ...)</c>: each group's learning
    /// rate, momentum and weight decay, where it sets them, else these; dampening and Nesterov are every group's. A
    /// momentum buffer is allocated when a group has momentum (a group of momentum 0 takes plain steps, as in PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">No group, a parameter of another model, one in two groups, or a trainable one in none; or Nesterov without a default momentum or with dampening.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (a group's is named <c>groups[i].Momentum</c>).</exception>
    public Sgd(IEnumerable<ParameterGroup> groups, float learningRate, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : this(ParameterGroupLayout.Resolve(groups, Checked(learningRate, momentum, dampening, weightDecay, nesterov), nameof(Sgd)), dampening, nesterov)
    {
    }

    // Over the resolved groups.
    private Sgd(ParameterGroupLayout groups, float dampening, bool nesterov)
        : base(groups)
    {
        var parameters = groups.Parameters;
        Dampening = dampening;
        Nesterov = nesterov;
        if (groups.Momenta.Any(m => m != 0f))
        {
            momentumBuffer = parameters.Device!.Zeros(checked((int)parameters.Length));
        }

        // Without momentum the kernel takes the values in the buffer's place and never reads it.
        trainable = groups.Runs(parameters.Values, parameters.Gradients, momentumBuffer ?? parameters.Values);
    }

    /// <summary>μ (the default of the groups that set none).</summary>
    public float Momentum => Groups.Defaults.Momentum!.Value;

    /// <summary>The dampening of the gradient in the momentum update.</summary>
    public float Dampening { get; }

    /// <summary>The L2 penalty added to the gradient (the default of the groups that set none).</summary>
    public float WeightDecay => Groups.Defaults.WeightDecay;

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override void Step()
    {
        var runs = trainable.Runs;
        StepCount++;
        foreach (var run in runs)
        {
            int g = run.Group;
            Ops.SgdStep(run[0], run[1], run[2], Groups.GetLearningRate(g), Groups.Momenta[g], Dampening, Groups.WeightDecays[g], Nesterov, firstStep: StepCount == 1);
        }
    }

    /// <summary>Whether the optimizer keeps a momentum buffer: some group has momentum.</summary>
    internal bool HasMomentumBuffer => momentumBuffer is not null;

    /// <summary>A copy of the state on the host (torch.optim.SGD's state_dict: the buffer, the groups and their current and initial learning rates), for checkpoints.</summary>
    public SgdState SaveState() => new(StepCount, momentumBuffer?.ToArray())
    {
        Groups = Groups.SaveGroups(),
        LearningRates = Groups.SaveLearningRates(),
        InitialLearningRates = Groups.SaveInitialLearningRates(),
    };

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, so training resumes exactly, with each group's learning rate
    /// when the state holds them and its initial learning rate (as torch's load_state_dict; a state without initial
    /// rates gives the rates the optimizer was made with). A state no training gives, or of other parameter groups, is
    /// refused and nothing changes: the next step would turn the weights it touches into NaN.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">The state has no buffer where this optimizer has momentum, or the other way round, or another length, or a value of the buffer is not finite, or its groups are not these.</exception>
    public void LoadState(SgdState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentChecks.ThrowIfNegative(state.Step);
        if ((state.MomentumBuffer is null) != (momentumBuffer is null))
        {
            throw new ArgumentException(state.MomentumBuffer is null
                ? "The saved SGD state has no momentum buffer, but this optimizer has momentum."
                : "The saved SGD state has a momentum buffer, but this optimizer has no momentum.", nameof(state));
        }

        if (state.MomentumBuffer is { } saved)
        {
            if (saved.Length != momentumBuffer!.Length)
            {
                throw new ArgumentException($"The saved SGD state's momentum buffer holds {saved.Length} values but the model has {momentumBuffer.Length} parameters.", nameof(state));
            }

            StateChecks.Values(saved, "momentum_buffer", "SGD state's momentum buffer", nameof(state));
        }

        StateChecks.Groups(Groups, state.Groups, state.LearningRates, state.InitialLearningRates, nameof(state));
        if (state.MomentumBuffer is { } buffer)
        {
            momentumBuffer!.CopyFrom(buffer);
        }

        StepCount = state.Step;
        Groups.LoadLearningRates(state.LearningRates, state.InitialLearningRates);
    }

    // The checks of the settings only Sgd has, before the groups are resolved (which check the rest); the groups' defaults.
    private static GroupDefaults Checked(float learningRate, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        HyperparameterChecks.NonNegative(dampening, nameof(dampening));
        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD).", nameof(nesterov));
        }

        return new(learningRate, weightDecay, Momentum: momentum);
    }

    /// <summary>Frees the momentum buffer.</summary>
    public override void Dispose() => momentumBuffer?.Dispose();
}
