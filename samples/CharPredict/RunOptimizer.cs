using System.Globalization;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The run's optimizer (--optimizer, --lr, --weight-decay, --momentum, --alpha, --centered), made from its settings for a fresh model
/// and for a resumed one alike, so a resumed run loads the saved state into the optimizer it was trained with.
/// </summary>
internal static class RunOptimizer
{
    /// <summary>The optimizers that have a momentum (--momentum).</summary>
    public static readonly string[] WithMomentum = ["sgd", "rmsprop"];

    /// <summary>The optimizers that have a smoothing constant α (--alpha).</summary>
    public static readonly string[] WithAlpha = ["rmsprop"];

    /// <summary>The optimizers that have a centered form (--centered).</summary>
    public static readonly string[] WithCentered = ["rmsprop"];

    /// <summary>
    /// The optimizer of <paramref name="settings"/> over <paramref name="parameters"/>: torch's Adam, AdamW, SGD or RMSprop
    /// with the run's learning rate and weight decay (an L2 term for adam, sgd and rmsprop, decoupled for adamw), SGD's and
    /// RMSprop's momentum and RMSprop's α and centering (ε and the rest torch's defaults).
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not one of <see cref="TrainSettings.Optimizers"/>.</exception>
    public static IOptimizer Create(TrainSettings settings, ParameterCollection parameters) => settings.Optimizer switch
    {
        "adam" => new Adam(parameters, settings.LearningRate, weightDecay: settings.WeightDecay),
        "adamw" => new AdamW(parameters, settings.LearningRate, weightDecay: settings.WeightDecay),
        "sgd" => new Sgd(parameters, settings.LearningRate, momentum: settings.Momentum, weightDecay: settings.WeightDecay),
        "rmsprop" => new RMSprop(parameters, settings.LearningRate, alpha: settings.Alpha, weightDecay: settings.WeightDecay, momentum: settings.Momentum, centered: settings.Centered),
        _ => throw new ArgumentException($"Unknown optimizer '{settings.Optimizer}'; use {string.Join(", ", TrainSettings.Optimizers)}."),
    };

    /// <summary>
    /// "Adam, lr 0.002", "AdamW, lr 0.002, weight decay 0.01", "SGD, lr 0.1, momentum 0.9", "RMSprop, lr 0.002, alpha
    /// 0.95, centered": what the run trains with.
    /// </summary>
    public static string Describe(TrainSettings settings)
    {
        string name = settings.Optimizer switch
        {
            "adamw" => "AdamW",
            "sgd" => "SGD",
            "rmsprop" => "RMSprop",
            _ => "Adam",
        };
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{name}, lr {settings.LearningRate}{(WithAlpha.Contains(settings.Optimizer) ? $", alpha {settings.Alpha}" : "")}{(settings.Centered ? ", centered" : "")}{(settings.WeightDecay != 0 ? $", weight decay {settings.WeightDecay}" : "")}{(settings.Momentum != 0 ? $", momentum {settings.Momentum}" : "")}");
    }

    /// <summary>
    /// Why <paramref name="flag"/>, a parameter of the optimizers <paramref name="takers"/> only, does not go with
    /// <paramref name="optimizer"/>; null when it is one of them.
    /// </summary>
    public static string? ParameterError(string flag, string[] takers, string optimizer)
        => takers.Contains(optimizer) ? null : $"{flag} is a parameter of --optimizer {string.Join(" or ", takers)}; this run's optimizer is {optimizer}, which has none.";
}
