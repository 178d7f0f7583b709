using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.SGD over every parameter, as one fused kernel: weight decay added to the gradient, then momentum
/// (the buffer starts as the first gradient; later buf = μ·buf + (1 − dampening)·g), classic or Nesterov, then p −= lr·g.
/// </summary>
public sealed class Sgd : IOptimizer
{
    private readonly Tensor? momentumBuffer;
    private readonly TrainableRuns trainable;
    private float learningRate;

    /// <summary>Creates the optimizer; a momentum buffer is allocated only when <paramref name="momentum"/> is not 0.</summary>
    public Sgd(ParameterCollection parameters, float learningRate, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var device = parameters.Device ?? throw new ArgumentException("Build the parameter collection before creating the optimizer.", nameof(parameters));
        HyperparameterChecks.NonNegative(learningRate, nameof(learningRate));
        HyperparameterChecks.NonNegative(momentum, nameof(momentum));
        HyperparameterChecks.NonNegative(dampening, nameof(dampening));
        HyperparameterChecks.NonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD).", nameof(nesterov));
        }

        Parameters = parameters;
        LearningRate = learningRate;
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        if (momentum != 0f)
        {
            momentumBuffer = device.Zeros(checked((int)parameters.Length));
        }

        // Without momentum the kernel takes the values in the buffer's place and never reads it.
        trainable = new TrainableRuns(parameters, parameters.Values, parameters.Gradients, momentumBuffer ?? parameters.Values);
    }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; }

    /// <inheritdoc/>
    public float LearningRate
    {
        get => learningRate;
        set
        {
            HyperparameterChecks.NonNegative(value, nameof(LearningRate));
            learningRate = value;
        }
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>The dampening of the gradient in the momentum update.</summary>
    public float Dampening { get; }

    /// <summary>The L2 penalty added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public int StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step()
    {
        StepCount++;
        foreach (var run in trainable.Runs)
        {
            Ops.SgdStep(run[0], run[1], run[2], LearningRate, Momentum, Dampening, WeightDecay, Nesterov, firstStep: StepCount == 1);
        }
    }

    /// <inheritdoc/>
    public void ZeroGradients() => Parameters.ZeroGradients();

    /// <summary>A copy of the state on the host (torch.optim.SGD's state_dict), for checkpoints.</summary>
    public SgdState SaveState() => new(StepCount, momentumBuffer?.ToArray());

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, so training resumes exactly. A state no training gives is
    /// refused and nothing changes: the next step would turn the weights it touches into NaN.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">The state has no buffer where this optimizer has momentum, or the other way round, or another length, or a value of the buffer is not finite.</exception>
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

            StateChecks.Values(saved, nonNegative: false, "SGD state's momentum buffer", nameof(state));

            momentumBuffer.CopyFrom(saved);
        }

        StepCount = state.Step;
    }

    /// <summary>Frees the momentum buffer.</summary>
    public void Dispose() => momentumBuffer?.Dispose();
}
