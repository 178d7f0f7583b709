using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.Adam over every parameter of a <see cref="ParameterCollection"/>, as one fused kernel
/// over the flat buffers (one per run of consecutive parameters of one <see cref="ParameterGroup"/>). It is dense, like PyTorch: a row that got no gradient this step still moves
/// while its momentum is non-zero (the n-gram model's gathered rows rely on that to match PyTorch). A group with amsgrad
/// also keeps the running maximum of its second moment (torch's <c>max_exp_avg_sq</c>) and divides by its square root
/// instead; the buffer of the maximum is allocated for every parameter when some parameter's group is amsgrad, and read and written
/// only in those groups' runs.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor firstMoment;
    private readonly Tensor secondMoment;
    private readonly Tensor? maxSecondMoment;
    private readonly TrainableRuns trainable;
    private readonly bool decoupledWeightDecay;

    /// <summary>
    /// Creates the optimizer over every parameter, one group, and its zeroed moment buffers on the parameters' device; the
    /// running maximum of the second moment only with <paramref name="amsgrad"/>.
    /// </summary>
    public Adam(ParameterCollection parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f, bool amsgrad = false)
        : this(ParameterGroupLayout.Whole(parameters, Defaults(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad)), decoupledWeightDecay: false)
    {
    }

    /// <summary>
    /// Creates the optimizer over parameter groups, as <c>torch.optim.Adam(param_groups, ...)</c>: each group's learning
    /// rate, weight decay, β1, β2, ε and amsgrad, where it sets them, else these.
    /// </summary>
    /// <exception cref="ArgumentException">No group, a parameter of another model, one in two groups, a trainable one in none, or a group that sets a momentum or centered.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (a group's is named <c>groups[i].LearningRate</c>).</exception>
    public Adam(IEnumerable<ParameterGroup> groups, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f, bool amsgrad = false)
        : this(ParameterGroupLayout.Resolve(groups, Defaults(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad), nameof(Adam)), decoupledWeightDecay: false)
    {
    }

    /// <summary>
    /// Over <paramref name="groups"/>; with <paramref name="decoupledWeightDecay"/>, each group's weight decay shrinks its
    /// parameters before the step, p ← p·(1 − lr·weight_decay), as AdamW's, instead of adding an L2 term to the gradient;
    /// in a group with amsgrad, a running maximum of the second moment divides in its place.
    /// </summary>
    internal Adam(ParameterGroupLayout groups, bool decoupledWeightDecay)
        : base(groups)
    {
        this.decoupledWeightDecay = decoupledWeightDecay;
        var parameters = groups.Parameters;
        int count = checked((int)parameters.Length);
        firstMoment = parameters.Device!.Zeros(count);
        secondMoment = parameters.Device.Zeros(count);
        if (groups.KeepsState(groups.Amsgrad))
        {
            maxSecondMoment = parameters.Device.Zeros(count);
        }

        // The kernel takes the values in the place of the maximum it does not keep when no group is amsgrad, and never reads them there.
        trainable = groups.Runs(parameters.Values, parameters.Gradients, firstMoment, secondMoment, maxSecondMoment ?? parameters.Values);
    }

    /// <summary>β1, the decay of the first moment (the default of the groups that set none).</summary>
    public float Beta1 => Groups.Defaults.Beta1!.Value;

    /// <summary>β2, the decay of the second moment (the default of the groups that set none).</summary>
    public float Beta2 => Groups.Defaults.Beta2!.Value;

    /// <summary>ε, added after the square root (the default of the groups that set none).</summary>
    public float Epsilon => Groups.Defaults.Epsilon!.Value;

    /// <summary>L2 weight decay added to the gradient, as torch.optim.Adam's weight_decay (the default of the groups that set none).</summary>
    public float WeightDecay => Groups.Defaults.WeightDecay;

    /// <summary>Whether the step divides by the running maximum of the second moment (torch's amsgrad) (the default of the groups that set none).</summary>
    public bool Amsgrad => Groups.Defaults.Amsgrad!.Value;

    /// <summary>Applies one update from the accumulated gradients.</summary>
    public override void Step()
    {
        var runs = trainable.Runs;
        StepCount++;
        foreach (var run in runs)
        {
            int g = run.Group;
            float learningRate = Groups.GetLearningRate(g);
            float weightDecay = Groups.WeightDecays[g];
            if (decoupledWeightDecay)
            {
                if (weightDecay != 0f)
                {
                    // As torch: the factor is computed in double from the step's lr and applied as one float multiply.
                    Ops.Scale(run[0], (float)(1.0 - ((double)learningRate * weightDecay)));
                }

                weightDecay = 0f;
            }

            Ops.AdamStep(run[0], run[1], run[2], run[3], run[4], learningRate, Groups.Betas1[g], Groups.Betas2[g], Groups.Epsilons[g], weightDecay, Groups.Amsgrad[g], StepCount);
        }
    }

    /// <summary>The optimizer state to save with a checkpoint: step, first and second moments (and when a group is amsgrad their running maximum), the groups, each one's amsgrad and its current and initial learning rates.</summary>
    public AdamState SaveState() => new(StepCount, firstMoment.ToArray(), secondMoment.ToArray())
    {
        MaxSecondMoment = maxSecondMoment?.ToArray(),
        Amsgrad = [.. Groups.Amsgrad],
        Groups = Groups.SaveGroups(),
        LearningRates = Groups.SaveLearningRates(),
        InitialLearningRates = Groups.SaveInitialLearningRates(),
    };

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, so training resumes exactly, with each group's learning rate
    /// when the state holds them and its initial learning rate (as torch's load_state_dict; a state without initial
    /// rates gives the rates the optimizer was made with). A state no training gives, of other parameter groups, or with a
    /// running maximum of the second moment where this optimizer keeps none (no group is amsgrad), or the other way round,
    /// or of a group whose amsgrad is not this optimizer's group's, is refused and nothing changes: the next step would
    /// turn the weights it touches into NaN, or take them elsewhere than the saved run.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">Its moments do not fit the parameters, a first moment is not finite, a second moment or maximum is NaN or negative (+∞, which a gradient whose square overflows float gives, loads), it holds a maximum exactly when no group of this optimizer is amsgrad, or its groups, or a group's amsgrad, are not these.</exception>
    public void LoadState(AdamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentChecks.ThrowIfNegative(state.Step);
        if (state.FirstMoment.Length != firstMoment.Length || state.SecondMoment.Length != secondMoment.Length)
        {
            throw new ArgumentException($"The saved optimizer state holds {state.FirstMoment.Length} moments but the model has {firstMoment.Length} parameters.");
        }

        StateChecks.Values(state.FirstMoment, "exp_avg", "Adam state's first moment (exp_avg)", nameof(state));
        StateChecks.Values(state.SecondMoment, "exp_avg_sq", "Adam state's second moment (exp_avg_sq)", nameof(state));
        if ((state.MaxSecondMoment is null) != (maxSecondMoment is null))
        {
            throw new ArgumentException(state.MaxSecondMoment is null
                ? $"The saved Adam state has no running maximum of the second moment (max_exp_avg_sq), but this optimizer keeps one: {StateChecks.Which(Groups.Amsgrad, "amsgrad")}."
                : $"The saved Adam state has a running maximum of the second moment (max_exp_avg_sq), but this optimizer keeps none: {StateChecks.Which(Groups.Amsgrad, "amsgrad")}.", nameof(state));
        }

        if (state.MaxSecondMoment is { } saved)
        {
            if (saved.Length != maxSecondMoment!.Length)
            {
                throw new ArgumentException($"The saved Adam state's running maximum of the second moment (max_exp_avg_sq) holds {saved.Length} values but the model has {maxSecondMoment.Length} parameters.", nameof(state));
            }

            StateChecks.Values(saved, "max_exp_avg_sq", "Adam state's running maximum of the second moment (max_exp_avg_sq)", nameof(state));
        }

        StateChecks.Groups(Groups, state.Groups, state.LearningRates, state.InitialLearningRates, nameof(state));
        StateChecks.GroupFlags(Groups.Amsgrad, state.Amsgrad, state.MaxSecondMoment is not null, "Adam", "amsgrad", nameof(state));

        firstMoment.CopyFrom(state.FirstMoment);
        secondMoment.CopyFrom(state.SecondMoment);
        if (state.MaxSecondMoment is { } maximum)
        {
            maxSecondMoment!.CopyFrom(maximum);
        }

        StepCount = state.Step;
        Groups.LoadLearningRates(state.LearningRates, state.InitialLearningRates);
    }

    /// <summary>The settings every constructor takes, as the groups' defaults.</summary>
    internal static GroupDefaults Defaults(float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad)
        => new(learningRate, weightDecay, Beta1: beta1, Beta2: beta2, Epsilon: epsilon, Amsgrad: amsgrad);

    /// <summary>Frees the moment buffers.</summary>
    public override void Dispose()
    {
        firstMoment.Dispose();
        secondMoment.Dispose();
        maxSecondMoment?.Dispose();
    }
}
