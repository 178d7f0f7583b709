using System.Diagnostics;
using Tensorlet.Models.Modeling;
using Tensorlet.Optim;

namespace Tensorlet.Models.Training;

/// <summary>
/// Trains a model with Adam on batches drawn in a seeded shuffle per epoch, reports progress after
/// every batch and scores after every epoch, and stops cleanly on cancellation or a non-finite loss.
/// Each epoch's order depends only on (seed, epoch), so a run resumed from a <see cref="TrainingPosition"/>
/// sees exactly the batches it would have seen.
/// </summary>
public sealed class Trainer(ICharModel model, Adam optimizer, TrainerOptions options)
{
    /// <summary>Raised after every batch.</summary>
    public event Action<BatchProgress>? BatchCompleted;

    /// <summary>Raised after every epoch, after validation; a handler may save a checkpoint.</summary>
    public event Action<EpochReport>? EpochCompleted;

    /// <summary>Makes the text sample shown after each epoch; null for none.</summary>
    public Func<string>? Sampler { get; set; }

    /// <summary>The examples of epoch <paramref name="epoch"/> (from 0), in training order.</summary>
    public static int[] EpochOrder(int count, int seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        new Random(ShuffleSeed(seed, epoch)).Shuffle(order);
        return order;
    }

    // HashCode.Combine is seeded at random in every process, which made the order differ from run to run (and a
    // resumed run see other batches); a SplitMix64 mix of (seed, epoch) is the same in every process.
    private static int ShuffleSeed(int seed, int epoch)
    {
        ulong z = (((ulong)(uint)seed << 32) | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>Trains from <paramref name="start"/> (or the beginning) to <see cref="TrainerOptions.Epochs"/>.</summary>
    public TrainingResult Train(IBatchSource train, IBatchSource? validation, TrainingPosition? start = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        var position = start ?? new TrainingPosition(0, 0, optimizer.StepCount);
        var reports = new List<EpochReport>();
        using var step = new TrainingStep(model, optimizer, train, options.BatchSize, options.GradientClipNorm);
        int batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        if (options.MaxBatchesPerEpoch is int max)
        {
            batchesPerEpoch = Math.Min(batchesPerEpoch, max);
        }

        for (int epoch = position.Epoch; epoch < options.Epochs; epoch++)
        {
            var order = EpochOrder(train.Count, options.Seed, epoch);
            int firstBatch = epoch == position.Epoch ? position.BatchInEpoch : 0;
            double lossSum = 0;
            long characters = 0;
            var clock = Stopwatch.StartNew();
            for (int batch = firstBatch; batch < batchesPerEpoch; batch++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    return new TrainingResult(position with { Epoch = epoch, BatchInEpoch = batch }, true, reports);
                }

                int from = batch * options.BatchSize;
                int n = Math.Min(options.BatchSize, train.Count - from);
                double loss = step.Run(order.AsSpan(from, n), position.Step + 1);
                if (!double.IsFinite(loss))
                {
                    throw new NonFiniteLossException(epoch + 1, batch + 1, loss);
                }

                int rows = n * train.RowsPerExample;
                position = new TrainingPosition(epoch, batch + 1, position.Step + 1);
                lossSum += loss;
                characters += rows;
                int done = batch - firstBatch + 1;
                BatchCompleted?.Invoke(new BatchProgress(epoch + 1, batch + 1, batchesPerEpoch, loss, lossSum / done, characters / clock.Elapsed.TotalSeconds, clock.Elapsed));
            }

            clock.Stop();
            var validationResult = validation is null || validation.Count == 0 ? null : Evaluator.Evaluate(model, validation, options.BatchSize, options.MaxValidationExamples);
            position = new TrainingPosition(epoch + 1, 0, position.Step);
            int batches = batchesPerEpoch - firstBatch;
            var report = new EpochReport(
                epoch + 1,
                batches == 0 ? double.NaN : lossSum / batches,
                validationResult,
                characters / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
                clock.Elapsed,
                Sampler?.Invoke(),
                position);
            reports.Add(report);
            EpochCompleted?.Invoke(report);
        }

        return new TrainingResult(position, false, reports);
    }
}
