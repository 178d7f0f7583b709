using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.AdamW: Adam with decoupled weight decay. Each step first shrinks every parameter,
/// p ← p·(1 − lr·weight_decay), then takes Adam's step without an L2 term, as PyTorch 1.13 does.
/// </summary>
public sealed class AdamW : IOptimizer
{
    private readonly Adam adam;

    /// <summary>Creates the optimizer and its zeroed moment buffers; PyTorch's default weight decay is 0.01.</summary>
    public AdamW(ParameterCollection parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
    {
        HyperparameterChecks.NonNegative(weightDecay, nameof(weightDecay));
        adam = new Adam(parameters, learningRate, beta1, beta2, epsilon, 0f);
        WeightDecay = weightDecay;
    }

    /// <inheritdoc/>
    public ParameterCollection Parameters => adam.Parameters;

    /// <inheritdoc/>
    public float LearningRate
    {
        get => adam.LearningRate;
        set => adam.LearningRate = value;
    }

    /// <summary>The decoupled weight decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    public int StepCount => adam.StepCount;

    /// <inheritdoc/>
    public void Step()
    {
        if (WeightDecay != 0f)
        {
            // As torch: the factor is computed in double from the step's lr and applied as one float multiply.
            foreach (var run in Parameters.Trainable.Runs)
            {
                Ops.Scale(run[0], (float)(1.0 - ((double)LearningRate * WeightDecay)));
            }
        }

        adam.Step();
    }

    /// <inheritdoc/>
    public void ZeroGradients() => adam.ZeroGradients();

    /// <summary>The state to save with a checkpoint: step, first and second moments (Adam's format).</summary>
    public AdamState SaveState() => adam.SaveState();

    /// <summary>Restores a state saved by <see cref="SaveState"/>; a state no training gives is refused and nothing changes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">Its moments do not fit the parameters, a moment is not finite, or a second moment is negative.</exception>
    public void LoadState(AdamState state) => adam.LoadState(state);

    /// <summary>Frees the moment buffers.</summary>
    public void Dispose() => adam.Dispose();
}
