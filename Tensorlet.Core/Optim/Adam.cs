using System.Globalization;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.Adam over every parameter of a <see cref="ParameterCollection"/>, as one fused kernel
/// over the flat buffers. It is dense, like PyTorch: a row that got no gradient this step still moves
/// while its momentum is non-zero (the n-gram model's gathered rows rely on that to match PyTorch).
/// </summary>
public sealed class Adam : IOptimizer
{
    private readonly Tensor firstMoment;
    private readonly Tensor secondMoment;
    private readonly TrainableRuns trainable;
    private float learningRate;

    /// <summary>Creates the optimizer and its zeroed moment buffers on the parameters' device.</summary>
    public Adam(ParameterCollection parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var device = parameters.Device ?? throw new ArgumentException("Build the parameter collection before creating the optimizer.", nameof(parameters));
        HyperparameterChecks.NonNegative(learningRate, nameof(learningRate));
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), string.Create(CultureInfo.InvariantCulture, $"Adam betas must be in [0, 1); got ({beta1}, {beta2})."));
        }

        HyperparameterChecks.NonNegative(epsilon, nameof(epsilon));
        HyperparameterChecks.NonNegative(weightDecay, nameof(weightDecay));

        Parameters = parameters;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        int count = checked((int)parameters.Length);
        firstMoment = device.Zeros(count);
        secondMoment = device.Zeros(count);
        trainable = new TrainableRuns(parameters, parameters.Values, parameters.Gradients, firstMoment, secondMoment);
    }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; }

    /// <summary>The learning rate.</summary>
    public float LearningRate
    {
        get => learningRate;
        set
        {
            HyperparameterChecks.NonNegative(value, nameof(LearningRate));
            learningRate = value;
        }
    }

    /// <summary>β1, the decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>β2, the decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>ε, added after the square root.</summary>
    public float Epsilon { get; }

    /// <summary>L2 weight decay added to the gradient, as torch.optim.Adam's weight_decay.</summary>
    public float WeightDecay { get; }

    /// <summary>How many steps have been taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>Applies one update from the accumulated gradients.</summary>
    public void Step()
    {
        StepCount++;
        foreach (var run in trainable.Runs)
        {
            Ops.AdamStep(run[0], run[1], run[2], run[3], LearningRate, Beta1, Beta2, Epsilon, WeightDecay, StepCount);
        }
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Parameters.ZeroGradients();

    /// <summary>The optimizer state to save with a checkpoint: step, first and second moments.</summary>
    public AdamState SaveState() => new(StepCount, firstMoment.ToArray(), secondMoment.ToArray());

    /// <summary>
    /// Restores a state saved by <see cref="SaveState"/>, so training resumes exactly. A state no training gives is
    /// refused and nothing changes: the next step would turn the weights it touches into NaN.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's step is negative.</exception>
    /// <exception cref="ArgumentException">Its moments do not fit the parameters, a moment is not finite, or a second moment is negative.</exception>
    public void LoadState(AdamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(state.Step);
        if (state.FirstMoment.Length != firstMoment.Length || state.SecondMoment.Length != secondMoment.Length)
        {
            throw new ArgumentException($"The saved optimizer state holds {state.FirstMoment.Length} moments but the model has {firstMoment.Length} parameters.");
        }

        StateChecks.Values(state.FirstMoment, nonNegative: false, "Adam state's first moment (exp_avg)", nameof(state));
        StateChecks.Values(state.SecondMoment, nonNegative: true, "Adam state's second moment (exp_avg_sq)", nameof(state));

        firstMoment.CopyFrom(state.FirstMoment);
        secondMoment.CopyFrom(state.SecondMoment);
        StepCount = state.Step;
    }

    /// <summary>Frees the moment buffers.</summary>
    public void Dispose()
    {
        firstMoment.Dispose();
        secondMoment.Dispose();
    }
}
