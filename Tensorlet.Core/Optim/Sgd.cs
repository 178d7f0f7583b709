using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.SGD over every parameter, as one fused kernel (one per run of consecutive parameters of one
/// <see cref="ParameterGroup"/>): weight decay added to the gradient, then momentum
/// (the buffer starts as the first gradient; later buf = μ·buf + (1 − dampening)·g), classic or Nesterov, then p −= lr·g.
/// </summary>
public sealed class Sgd : IOptimizer
{
    private readonly Tensor? momentumBuffer;
    private readonly TrainableRuns trainable;
    private readonly ParameterGroupLayout groups;

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
    {
        this.groups = groups;
        var parameters = groups.Parameters;
        Parameters = parameters;
        Dampening = dampening;
        Nesterov = nesterov;
        if (groups.Momenta.Any(m => m != 0f))
        {
            momentumBuffer = parameters.Device!.Zeros(checked((int)parameters.Length));
        }

        // Without momentum the kernel takes the values in the buffer's place and never reads it.
        trainable = groups.Runs(parameters.Values, parameters.Gradients, momentumBuffer ?? parameters.Values);
    }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; }

    /// <summary>The learning rate: the first group's; setting it sets every group's, as a loop over torch's <c>param_groups</c>.</summary>
    public float LearningRate
    {
        get => groups.GetLearningRate(0);
        set => groups.SetLearningRates(value, nameof(LearningRate));
    }

    /// <inheritdoc/>
    public int GroupCount => groups.Count;

    /// <summary>The parameter groups, for checkpoints.</summary>
    internal ParameterGroupLayout Groups => groups;

    /// <summary>μ (the default of the groups that set none).</summary>
    public float Momentum => groups.Defaults.Momentum!.Value;

    /// <summary>The dampening of the gradient in the momentum update.</summary>
    public float Dampening { get; }

    /// <summary>The L2 penalty added to the gradient (the default of the groups that set none).</summary>
    public float WeightDecay => groups.Defaults.WeightDecay;

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public int StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step()
    {
        var runs = trainable.Runs;
        StepCount++;
        foreach (var run in runs)
        {
            int g = run.Group;
            Ops.SgdStep(run[0], run[1], run[2], groups.GetLearningRate(g), groups.Momenta[g], Dampening, groups.WeightDecays[g], Nesterov, firstStep: StepCount == 1);
        }
    }

    /// <inheritdoc/>
    public float GetLearningRate(int group) => groups.GetLearningRate(group);

    /// <inheritdoc/>
    public void SetLearningRate(int group, float learningRate) => groups.SetLearningRate(group, learningRate, nameof(learningRate));

    /// <inheritdoc/>
    public float? GetInitialLearningRate(int group) => groups.GetInitialLearningRate(group);

    /// <inheritdoc/>
    public void SetInitialLearningRate(int group, float learningRate) => groups.SetInitialLearningRate(group, learningRate, nameof(learningRate));

    /// <summary>Whether the optimizer keeps a momentum buffer: some group has momentum.</summary>
    internal bool HasMomentumBuffer => momentumBuffer is not null;

    /// <inheritdoc/>
    public void ZeroGradients() => Parameters.ZeroGradients();

    /// <summary>A copy of the state on the host (torch.optim.SGD's state_dict: the buffer, the groups and their current and initial learning rates), for checkpoints.</summary>
    public SgdState SaveState() => new(StepCount, momentumBuffer?.ToArray())
    {
        Groups = groups.SaveGroups(),
        LearningRates = groups.SaveLearningRates(),
        InitialLearningRates = groups.SaveInitialLearningRates(),
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
        ArgumentOutOfRangeException.ThrowIfNegative(state.Step);
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

        StateChecks.Groups(groups, state.Groups, state.LearningRates, state.InitialLearningRates, nameof(state));
        if (state.MomentumBuffer is { } buffer)
        {
            momentumBuffer!.CopyFrom(buffer);
        }

        StepCount = state.Step;
        groups.LoadLearningRates(state.LearningRates, state.InitialLearningRates);
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
    public void Dispose() => momentumBuffer?.Dispose();
}
