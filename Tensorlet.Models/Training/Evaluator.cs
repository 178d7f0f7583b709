using Tensorlet.Models.Modeling;

namespace Tensorlet.Models.Training;

/// <summary>Scores a model on a dataset without training it.</summary>
public static class Evaluator
{
    /// <summary>
    /// The cross-entropy of <paramref name="model"/> on every example of <paramref name="source"/>, per target position.
    /// </summary>
    /// <param name="model">The model, in evaluation mode (no dropout).</param>
    /// <param name="source">The examples.</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    /// <param name="maxExamples">Score only the first examples, for quick estimates; null for all.</param>
    public static EvaluationResult Evaluate(ICharModel model, IBatchSource source, int batchSize = 100, int? maxExamples = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int total = Math.Min(source.Count, maxExamples ?? int.MaxValue);
        var tally = new PositionLosses();
        using var buffers = new BatchBuffers<int, int>(model.Device, source, Math.Max(1, Math.Min(batchSize, total)));
        var examples = new int[buffers.BatchSize];
        var losses = new float[buffers.RowCapacity];
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

        return tally.Result();
    }
}
