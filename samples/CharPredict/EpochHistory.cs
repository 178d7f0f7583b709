using System.Text.Json;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The exact validation loss and the learning rate of each finished epoch of one model (<c>NAME.history.json</c>;
/// metrics.csv rounds the losses): what decides which epoch is the best model, and what a resumed run replays
/// ReduceLROnPlateau with.
/// </summary>
internal sealed class EpochHistory
{
    private readonly List<EpochEntry> entries;

    private EpochHistory(List<EpochEntry> entries) => this.entries = entries;

    /// <summary>Epochs 1, 2, ... in order.</summary>
    public IReadOnlyList<EpochEntry> Entries => entries;

    /// <summary>The validation loss of epochs 1, 2, ...</summary>
    public IReadOnlyList<double> Losses => [.. entries.Select(e => e.ValLoss)];

    /// <summary>The losses of the first <paramref name="epochs"/> epochs saved at <paramref name="path"/> (those it has).</summary>
    public static EpochHistory Read(string path, int epochs)
    {
        if (epochs == 0 || !File.Exists(path))
        {
            return new EpochHistory([]);
        }

        try
        {
            var all = JsonSerializer.Deserialize<List<EpochEntry>>(File.ReadAllText(path), TrainSettings.Json) ?? [];
            return new EpochHistory([.. all.Where(e => e.Epoch <= epochs)]);
        }
        catch (JsonException e)
        {
            throw new IOException($"{path} is not a list of validation losses: {e.Message}", e);
        }
    }

    /// <summary>Whether <paramref name="loss"/> is lower than every earlier epoch's.</summary>
    public bool IsBest(double loss) => entries.TrueForAll(e => loss < e.ValLoss);

    /// <summary>Records an epoch (dropping it and any later ones first: a redone epoch replaces them).</summary>
    public void Add(EpochEntry entry)
    {
        entries.RemoveAll(e => e.Epoch >= entry.Epoch);
        entries.Add(entry);
    }

    /// <summary>Writes the history atomically.</summary>
    public void Write(string path)
    {
        var json = JsonSerializer.Serialize(entries, TrainSettings.Json);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(json);
        });
    }
}

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="ValLoss">Its validation loss, nats, exact.</param>
/// <param name="LearningRate">The learning rate it trained with (at its last batch, for a schedule stepped per batch).</param>
internal sealed record EpochEntry(int Epoch, double ValLoss, double LearningRate);
