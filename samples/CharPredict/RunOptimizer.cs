using System.Globalization;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The run's optimizer (--optimizer, --lr, --weight-decay, --momentum), made from its settings for a fresh model and
/// for a resumed one alike, so a resumed run loads the saved state into the optimizer it was trained with.
/// </summary>
internal static class RunOptimizer
{
    /// <summary>
    /// The optimizer of <paramref name="settings"/> over <paramref name="parameters"/>: torch's Adam, AdamW or SGD with
    /// the run's learning rate and weight decay (an L2 term for adam and sgd, decoupled for adamw), and SGD's momentum.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not one of <see cref="TrainSettings.Optimizers"/>.</exception>
    public static IOptimizer Create(TrainSettings settings, ParameterCollection parameters) => settings.Optimizer switch
    {
        "adam" => new Adam(parameters, settings.LearningRate, weightDecay: settings.WeightDecay),
        "adamw" => new AdamW(parameters, settings.LearningRate, weightDecay: settings.WeightDecay),
        "sgd" => new Sgd(parameters, settings.LearningRate, momentum: settings.Momentum, weightDecay: settings.WeightDecay),
        _ => throw new ArgumentException($"Unknown optimizer '{settings.Optimizer}'; use {string.Join(", ", TrainSettings.Optimizers)}."),
    };

    /// <summary>"Adam, lr 0.002", "AdamW, lr 0.002, weight decay 0.01", "SGD, lr 0.1, momentum 0.9": what the run trains with.</summary>
    public static string Describe(TrainSettings settings)
    {
        string name = settings.Optimizer switch
        {
            "adamw" => "AdamW",
            "sgd" => "SGD",
            _ => "Adam",
        };
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{name}, lr {settings.LearningRate}{(settings.WeightDecay != 0 ? $", weight decay {settings.WeightDecay}" : "")}{(settings.Momentum != 0 ? $", momentum {settings.Momentum}" : "")}");
    }

    /// <summary>Why --momentum does not go with <paramref name="optimizer"/>: only SGD has one. Null for sgd.</summary>
    public static string? MomentumError(string optimizer)
        => optimizer == "sgd" ? null : $"--momentum is a parameter of --optimizer sgd; this run's optimizer is {optimizer}, which has none.";
}
