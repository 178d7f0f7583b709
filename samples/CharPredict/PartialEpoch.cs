using System.Diagnostics;
using System.Text.Json;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The tallies of an epoch stopped part-way (written beside the checkpoint when training stops mid-epoch), so that the
/// resumed epoch reports the same training loss and time as an uninterrupted one.
/// </summary>
/// <param name="Step">The optimizer step the checkpoint was saved at; the tallies belong to that checkpoint only.</param>
/// <param name="LossSum">The sum of the epoch's batch losses so far.</param>
/// <param name="Batches">The epoch's batches so far.</param>
/// <param name="Seconds">The model's training time so far.</param>
internal sealed record PartialEpoch(long Step, double LossSum, int Batches, double Seconds)
{
    /// <summary>The tallies saved at <paramref name="step"/>, or null when there are none (or they belong to another step).</summary>
    public static PartialEpoch? Read(string path, long step)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var partial = JsonSerializer.Deserialize<PartialEpoch>(File.ReadAllText(path));
        return partial is not null && partial.Step == step ? partial : null;
    }

    /// <summary>Writes the tallies atomically.</summary>
    public void Write(string path)
    {
        var json = JsonSerializer.Serialize(this);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(json);
        });
    }
}

/// <summary>The running tallies of the current epoch: its batch losses and the model's training time.</summary>
internal sealed class EpochTally(PartialEpoch carried)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>The sum of this epoch's batch losses.</summary>
    public double LossSum { get; private set; } = carried.LossSum;

    /// <summary>This epoch's batches.</summary>
    public int Batches { get; private set; } = carried.Batches;

    /// <summary>The model's training time, including time before a resume.</summary>
    public double Seconds => carried.Seconds + clock.Elapsed.TotalSeconds;

    /// <summary>The mean batch loss of the epoch so far (NaN before its first batch).</summary>
    public double MeanLoss => Batches == 0 ? double.NaN : LossSum / Batches;

    /// <summary>Counts one batch.</summary>
    public void Add(double loss)
    {
        LossSum += loss;
        Batches++;
    }

    /// <summary>Starts the next epoch's tallies.</summary>
    public void NextEpoch() => (LossSum, Batches) = (0, 0);

    /// <summary>The tallies to save when stopping at <paramref name="step"/>.</summary>
    public PartialEpoch Save(long step) => new(step, LossSum, Batches, Seconds);
}
