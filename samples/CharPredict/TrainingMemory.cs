using System.Globalization;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The memory a training run needs, estimated from the model's spec and the batch before anything is allocated, and
/// refused with one line when it exceeds what this process may use. The estimate is deliberately generous: it counts
/// per parameter the weight, its gradient and the state the run's optimizer keeps
/// (<see cref="RunOptimizer.StateFloatsPerParameter"/>: Adam's two moments, SGD's momentum buffer, RMSprop's mean
/// square, mean gradient and momentum buffer, as the settings have them), and, per predicted character, every
/// activation the backward pass keeps (the LSTM's gates, cell and hidden states and a dropout mask per layer; the
/// logits, their probabilities and gradient).
/// </summary>
internal static class TrainingMemory
{
    /// <summary>float32 values per parameter besides the optimizer's state: the weight and its gradient.</summary>
    public const int FloatsPerParameter = 2;

    /// <summary>
    /// The estimated bytes (as a double, so absurd sizes cannot overflow it) of training <paramref name="spec"/> on
    /// batches of <paramref name="batch"/> examples of <paramref name="rowsPerExample"/> predicted characters with an
    /// optimizer that keeps <paramref name="optimizerStateFloats"/> float32 values per parameter.
    /// </summary>
    public static double Estimate(CharModelSpec spec, int batch, int rowsPerExample, int optimizerStateFloats)
    {
        double rows = (double)batch * rowsPerExample;
        double floatsPerRow = spec.Kind != ModelKind.Ngram
            ? (spec.NumLayers * 10.0 * spec.HiddenSize) + (3.0 * spec.CharVocabularySize)
            : (3.0 * spec.HiddenSize) + (3.0 * spec.CharVocabularySize);
        return (spec.ParameterCount() * (double)(FloatsPerParameter + optimizerStateFloats) * sizeof(float)) + (rows * floatsPerRow * sizeof(float));
    }

    /// <summary>
    /// Why a recurrent model of <paramref name="hiddenSize"/> and <paramref name="numLayers"/> cannot be trained whatever
    /// the data: even with a one-character vocabulary it has more than <see cref="CharModelSpec.MaxParameters"/>
    /// parameters. Null when some vocabulary fits (the spec's own check, with the data's, comes when the data is read).
    /// </summary>
    public static string? RecurrentSizeError(ModelKind kind, int hiddenSize, int numLayers)
    {
        var smallest = new CharModelSpec(kind, 1, hiddenSize, numLayers);
        return smallest.ParameterCount() is var count and > CharModelSpec.MaxParameters
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"--lstm-hidden {hiddenSize} with --lstm-layers {numLayers} makes {(kind == ModelKind.Gru ? "a" : "an")} {RunFolder.TitleOf(kind)} of at least {count:N0} parameters; at most {CharModelSpec.MaxParameters:N0} (2^28) fit the limits of one training run.")
            : null;
    }

    /// <summary>What this process may allocate: the machine's memory, or the container's limit where there is one.</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Checks the spec's limits and the estimate for the batch and optimizer of <paramref name="settings"/> against
    /// <paramref name="available"/> bytes (<see cref="Available"/> for a run).
    /// </summary>
    /// <exception cref="ArgumentException">The spec is out of its limits, or the run would not fit in memory.</exception>
    public static void Check(CharModelSpec spec, TrainSettings settings, IBatchSource train, long available)
    {
        spec.Validate();
        int batch = settings.Batch;
        if ((long)batch * train.RowsPerExample > Array.MaxLength)
        {
            throw new ArgumentException($"A batch of {batch} examples has {(long)batch * train.RowsPerExample} target rows; at most {Array.MaxLength} fit one buffer.");
        }

        double needed = Estimate(spec, batch, train.RowsPerExample, RunOptimizer.StateFloatsPerParameter(settings));
        if (needed > available)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Training this {(spec.Kind == ModelKind.Ngram ? "n-gram model" : spec.Kind.ToString().ToUpperInvariant())} with batches of {batch} needs about {needed / (1 << 30):F1} GiB; this process may use {available / (double)(1 << 30):F1} GiB. Use a smaller --batch or model."));
        }
    }
}
