using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.AdamW: Adam with decoupled weight decay. Each step first shrinks every parameter,
/// p ← p·(1 − lr·weight_decay), then takes Adam's step without an L2 term, as PyTorch 1.13 does.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly Adam adam;

    /// <summary>
    /// Creates the optimizer over every parameter, one group, and its zeroed moment buffers (and with
    /// <paramref name="amsgrad"/> the running maximum of the second moment); PyTorch's default weight decay is 0.01.
    /// </summary>
    public AdamW(ParameterCollection parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f, bool amsgrad = false)
        : this(new Adam(ParameterGroupLayout.Whole(parameters, Adam.Defaults(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad)), decoupledWeightDecay: true))
    {
    }

    /// <summary>
    /// Creates the optimizer over parameter groups, as <c>torch.optim.AdamW(param_groups, ...)</c>: each group's learning
    /// rate, decoupled weight decay, β1, β2, ε and amsgrad, where it sets them, else these (e.g. a group of biases and
    /// norm weights with <c>WeightDecay = 0f</c>).
    /// </summary>
    /// <exception cref="ArgumentException">No group, a parameter of another model, one in two groups, a trainable one in none, or a group that sets a momentum or centered.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (a group's is named <c>groups[i].WeightDecay</c>).</exception>
    public AdamW(IEnumerable<ParameterGroup> groups, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f, bool amsgrad = false)
        : this(new Adam(ParameterGroupLayout.Resolve(groups, Adam.Defaults(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad), nameof(AdamW)), decoupledWeightDecay: true))
    {
    }

    // Around the Adam with decoupled weight decay that takes its steps, over the same parameter groups.
    private AdamW(Adam adam)
        : base(adam.Groups) => this.adam = adam;

    /// <summary>β1, the decay of the first moment (the default of the groups that set none).</summary>
    public float Beta1 => adam.Beta1;

    /// <summary>β2, the decay of the second moment (the default of the groups that set none).</summary>
    public float Beta2 => adam.Beta2;

    /// <summary>ε, added after the square root (the default of the groups that set none).</summary>
    public float Epsilon => adam.Epsilon;

    /// <summary>The decoupled weight decay (the default of the groups that set none).</summary>
    public float WeightDecay => adam.WeightDecay;

    /// <summary>Whether the step divides by the running maximum of the second moment (torch's amsgrad) (the default of the groups that set none).</summary>
    public bool Amsgrad => adam.Amsgrad;

    /// <inheritdoc/>
    public override void Step()
    {
        adam.Step();
        StepCount = adam.StepCount;
    }

    /// <summary>The state to save with a checkpoint: step, first and second moments (and when a group is amsgrad their running maximum), the groups, each one's amsgrad and their current and initial learning rates (Adam's format).</summary>
    public AdamState SaveState() => adam.SaveState();

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, with each group's learning rate when it holds them and its
    /// initial learning rate (the rates the optimizer was made with when it holds none); a state no training gives, of
    /// other parameter groups, with a running maximum of the second moment exactly when no group of this optimizer is
    /// amsgrad, or of a group whose amsgrad is not this optimizer's group's, is refused and nothing changes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">Its moments do not fit the parameters, a first moment is not finite, a second moment or maximum is NaN or negative (+∞, which a gradient whose square overflows float gives, loads), it holds a maximum exactly when no group of this optimizer is amsgrad, or its groups, or a group's amsgrad, are not these.</exception>
    public void LoadState(AdamState state)
    {
        adam.LoadState(state);
        StepCount = adam.StepCount;
    }

    /// <summary>Frees the moment buffers.</summary>
    public override void Dispose() => adam.Dispose();
}
