using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// Some of a model's parameters with their own hyperparameters, as one of torch.optim's <c>param_groups</c>: a setting
/// left null is the optimizer's default. Give an optimizer one group per setting, e.g. AdamW without weight decay on
/// biases and norm weights:
/// <code>
/// var all = model.Parameters.Parameters;
/// using var optimizer = new AdamW(
///     [new ParameterGroup(all.Where(p => p.Shape.Count &gt; 1)),
///      new ParameterGroup(all.Where(p => p.Shape.Count == 1)) { WeightDecay = 0f }],
///     learningRate: 1e-3f, weightDecay: 0.1f);
/// </code>
/// By state_dict name: <c>new ParameterGroup(names.Select(n => model.Parameters[n]))</c>.
/// </summary>
/// <remarks>
/// Every parameter that requires a gradient must be in exactly one of an optimizer's groups; a frozen one may be left
/// out (unfrozen later, the optimizer's next step refuses it). The groups' order is their index in
/// <see cref="IOptimizer.GetLearningRate(int)"/>, in the schedules and in checkpoints.
/// </remarks>
public sealed class ParameterGroup
{
    /// <summary>A group of <paramref name="parameters"/>, which must all be of one built model.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or one of them is null.</exception>
    public ParameterGroup(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameter[] list = [.. parameters];
        if (Array.IndexOf(list, null) is var missing and >= 0)
        {
            throw new ArgumentNullException(nameof(parameters), $"Parameter {missing} of the group is null.");
        }

        Parameters = list;
    }

    /// <summary>The group's parameters.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The group's learning rate (torch's <c>lr</c>); null for the optimizer's.</summary>
    public float? LearningRate { get; init; }

    /// <summary>The group's weight decay (L2 for Adam and Sgd, decoupled for AdamW); null for the optimizer's.</summary>
    public float? WeightDecay { get; init; }

    /// <summary>The group's momentum, for <see cref="Sgd"/> and <see cref="RMSprop"/> (Adam and AdamW refuse it); null for the optimizer's.</summary>
    public float? Momentum { get; init; }

    /// <summary>The group's β1, the decay of the first moment, for <see cref="Adam"/> and <see cref="AdamW"/> only (Sgd and RMSprop refuse it); null for the optimizer's.</summary>
    public float? Beta1 { get; init; }

    /// <summary>The group's β2, the decay of the second moment, for <see cref="Adam"/> and <see cref="AdamW"/> only (Sgd and RMSprop refuse it); null for the optimizer's.</summary>
    public float? Beta2 { get; init; }

    /// <summary>The group's ε (torch's <c>eps</c>), for <see cref="Adam"/>, <see cref="AdamW"/> and <see cref="RMSprop"/> (Sgd refuses it); null for the optimizer's.</summary>
    public float? Epsilon { get; init; }

    /// <summary>The group's α, the decay of the mean square, for <see cref="RMSprop"/> only (the others refuse it); null for the optimizer's.</summary>
    public float? Alpha { get; init; }

    /// <summary>Whether the group divides by the running maximum of its second moment (torch's <c>amsgrad</c>), for <see cref="Adam"/> and <see cref="AdamW"/> only (Sgd and RMSprop refuse it); null for the optimizer's.</summary>
    public bool? Amsgrad { get; init; }

    /// <summary>Whether the group's mean square is centered by its mean gradient's square (torch's <c>centered</c>), for <see cref="RMSprop"/> only (the others refuse it); null for the optimizer's.</summary>
    public bool? Centered { get; init; }
}
