using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>
/// Scores a model on a dataset, or on one long text, without training it: in evaluation mode, after which every module
/// has the mode it had before.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Steps per forward pass when a long text goes through a recurrent model with its state carried from one pass to
    /// the next (<see cref="LogProbabilities"/>, and <see cref="Sampling.SequenceGenerator"/>'s start text): a text of
    /// any length then takes the activations of one chunk.
    /// </summary>
    public const int ChunkSteps = 2048;

    /// <summary>
    /// The log-probability (nats) of each of <paramref name="ids"/>[1..] given the ids before it: one sequence (batch
    /// 1) from a zero state, run <see cref="ChunkSteps"/> steps at a time with the state carried, which gives what one
    /// pass over the whole text gives, in evaluation mode. The model's own carried state and its modules' modes are left as they were.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ids"/> has fewer than 2 ids, so nothing to predict.</exception>
    public static double[] LogProbabilities(RnnCharModel model, ReadOnlySpan<int> ids)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (ids.Length < 2)
        {
            throw new ArgumentException($"A recurrent model needs at least 2 ids to predict one; got {ids.Length}.", nameof(ids));
        }

        bool carried = model.CarryState;
        var modes = new ModuleModes(model);
        modes.Eval();
        model.ResetState();
        model.CarryState = true;
        try
        {
            var logProbabilities = new double[ids.Length - 1];
            for (int first = 0; first < logProbabilities.Length; first += ChunkSteps)
            {
                int steps = Math.Min(ChunkSteps, logProbabilities.Length - first);
                using var inputs = model.Device.IndexFromArray(ids.Slice(first, steps), steps);
                using var targets = model.Device.IndexFromArray(ids.Slice(first + 1, steps), steps);
                var losses = model.ForwardLoss(inputs, targets, 1, training: false, step: 0).ToArray();
                for (int i = 0; i < steps; i++)
                {
                    logProbabilities[first + i] = -(double)losses[i];
                }
            }

            return logProbabilities;
        }
        finally
        {
            model.ResetState();
            model.CarryState = carried;
            modes.Restore();
        }
    }

    /// <summary>
    /// The cross-entropy of <paramref name="model"/> on every example of <paramref name="source"/>, per target position.
    /// </summary>
    /// <param name="model">The model; it runs in evaluation mode (no dropout), and each module's mode is given back after.</param>
    /// <param name="source">The examples.</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    /// <param name="maxExamples">Score only the first examples (at least 1), for quick estimates; null for all.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> has no examples, so there is no loss to report.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> or <paramref name="maxExamples"/> is below 1.</exception>
    public static EvaluationResult Evaluate(ICharModel model, IBatchSource source, int batchSize = 100, int? maxExamples = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentChecks.ThrowIfNegativeOrZero(batchSize);

        // A mean over no targets is NaN, which would pass for a score; an empty set is refused (as the Trainer refuses
        // an empty validation set).
        if (maxExamples is { } max)
        {
            ArgumentChecks.ThrowIfNegativeOrZero(max, nameof(maxExamples));
        }

        if (source.Count == 0)
        {
            throw new ArgumentException("The source has no examples to evaluate.", nameof(source));
        }

        int total = Math.Min(source.Count, maxExamples ?? int.MaxValue);
        var tally = new PositionLosses();
        using var buffers = new BatchBuffers<int, int>(model.Device, source, Math.Max(1, Math.Min(batchSize, total)));
        var examples = new int[buffers.BatchSize];
        var losses = new float[buffers.RowCapacity];
        var modes = model is Module root ? new ModuleModes(root) : null;
        modes?.Eval();
        try
        {
            for (int start = 0; start < total; start += buffers.BatchSize)
            {
                int n = Math.Min(buffers.BatchSize, total - start);
                for (int i = 0; i < n; i++)
                {
                    examples[i] = start + i;
                }

                var (inputs, targets) = buffers.Load(examples.AsSpan(0, n));
                var rowLosses = model.ForwardLoss((IndexTensor)inputs, (IndexTensor)targets, n, training: false, step: 0);
                int rows = n * source.RowsPerExample;
                rowLosses.CopyTo(losses.AsSpan(0, rows));
                for (int r = 0; r < rows; r++)
                {
                    tally.Add(buffers.Positions[r], losses[r], 1);
                }
            }
        }
        finally
        {
            modes?.Restore();
        }

        return tally.Result();
    }
}
