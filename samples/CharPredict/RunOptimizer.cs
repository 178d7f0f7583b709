using System.Globalization;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The run's optimizer (--optimizer, --lr, --weight-decay, --momentum, --alpha, --centered, --amsgrad), made from its settings for a fresh model
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

    /// <summary>The optimizers that have an amsgrad form (--amsgrad).</summary>
    public static readonly string[] WithAmsgrad = ["adam", "adamw"];

    // Each --optimizer in one row: its name as shown, how it is made from the settings, and the float32 buffers of state
    // it keeps per parameter (the tensors torch's state_dict holds per parameter), so that the memory estimate counts the
    // state of the optimizer Create makes. A test checks the count against each optimizer's saved state.
    private static readonly Dictionary<string, Choice> Choices = new()
    {
        ["adam"] = new("Adam", (s, p) => new Adam(p, s.LearningRate, weightDecay: s.WeightDecay, amsgrad: s.Amsgrad), s => 2 + (s.Amsgrad ? 1 : 0)), // exp_avg, exp_avg_sq, max_exp_avg_sq
        ["adamw"] = new("AdamW", (s, p) => new AdamW(p, s.LearningRate, weightDecay: s.WeightDecay, amsgrad: s.Amsgrad), s => 2 + (s.Amsgrad ? 1 : 0)),
        ["sgd"] = new("SGD", (s, p) => new Sgd(p, s.LearningRate, momentum: s.Momentum, weightDecay: s.WeightDecay), s => s.Momentum != 0 ? 1 : 0), // momentum_buffer
        ["rmsprop"] = new(
            "RMSprop",
            (s, p) => new RMSprop(p, s.LearningRate, alpha: s.Alpha, weightDecay: s.WeightDecay, momentum: s.Momentum, centered: s.Centered),
            s => 1 + (s.Centered ? 1 : 0) + (s.Momentum != 0 ? 1 : 0)), // square_avg, grad_avg, momentum_buffer
    };

    /// <summary>
    /// The optimizer of <paramref name="settings"/> over <paramref name="parameters"/>: torch's Adam, AdamW, SGD or RMSprop
    /// with the run's learning rate and weight decay (an L2 term for adam, sgd and rmsprop, decoupled for adamw), SGD's and
    /// RMSprop's momentum, RMSprop's α and centering and Adam's and AdamW's amsgrad (ε and the rest torch's defaults).
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not one of <see cref="TrainSettings.Optimizers"/>.</exception>
    public static IOptimizer Create(TrainSettings settings, ParameterCollection parameters) => Of(settings).Create(settings, parameters);

    /// <summary>
    /// The float32 values of state the optimizer of <paramref name="settings"/> keeps per parameter: adam's and adamw's
    /// two moments, and their running maximum with amsgrad; sgd's momentum buffer when --momentum is not 0; rmsprop's mean square, its mean gradient when
    /// centered and its momentum buffer when --momentum is not 0.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not one of <see cref="TrainSettings.Optimizers"/>.</exception>
    public static int StateFloatsPerParameter(TrainSettings settings) => Of(settings).StateFloatsPerParameter(settings);

    /// <summary>
    /// "Adam, lr 0.002", "AdamW, lr 0.002, amsgrad, weight decay 0.01", "SGD, lr 0.1, momentum 0.9", "RMSprop, lr 0.002, alpha
    /// 0.95, centered": what the run trains with.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is not one of <see cref="TrainSettings.Optimizers"/>.</exception>
    public static string Describe(TrainSettings settings) => string.Create(
        CultureInfo.InvariantCulture,
        $"{Of(settings).Name}, lr {settings.LearningRate}{(WithAlpha.Contains(settings.Optimizer) ? $", alpha {settings.Alpha}" : "")}{(settings.Centered ? ", centered" : "")}{(settings.Amsgrad ? ", amsgrad" : "")}{(settings.WeightDecay != 0 ? $", weight decay {settings.WeightDecay}" : "")}{(settings.Momentum != 0 ? $", momentum {settings.Momentum}" : "")}");

    /// <summary>
    /// Why <paramref name="flag"/>, a parameter of the optimizers <paramref name="takers"/> only, does not go with
    /// <paramref name="optimizer"/>; null when it is one of them.
    /// </summary>
    public static string? ParameterError(string flag, string[] takers, string optimizer)
        => takers.Contains(optimizer) ? null : $"{flag} is a parameter of --optimizer {string.Join(" or ", takers)}; this run's optimizer is {optimizer}, which has none.";

    private static Choice Of(TrainSettings settings) => Choices.TryGetValue(settings.Optimizer, out var choice)
        ? choice
        : throw new ArgumentException($"Unknown optimizer '{settings.Optimizer}'; use {string.Join(", ", TrainSettings.Optimizers)}.");

    // One --optimizer: its name as shown, its constructor over the settings, and its state per parameter for the settings.
    private sealed record Choice(string Name, Func<TrainSettings, ParameterCollection, IOptimizer> Create, Func<TrainSettings, int> StateFloatsPerParameter);
}
