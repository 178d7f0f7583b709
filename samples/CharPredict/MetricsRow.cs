using System.Globalization;

namespace Tensorlet.Samples.CharPredict;

/// <summary>One epoch of one model: a row of metrics.csv.</summary>
/// <param name="Model">ngram or lstm.</param>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training batch loss of the epoch, nats.</param>
/// <param name="ValLossAll">Validation loss over every position the model predicts (LSTM 1..99, n-gram n..99), nats.</param>
/// <param name="ValLossCommon">Validation loss over positions n..99, where both models predict, nats (on a text, the whole validation loss).</param>
/// <param name="ValBpc">Validation bits per character, from <paramref name="ValLossAll"/>.</param>
/// <param name="CharsPerSecond">Training throughput in predicted characters per second.</param>
/// <param name="Seconds">Time spent training this model so far (validation and samples included).</param>
internal sealed record MetricsRow(string Model, int Epoch, double TrainLoss, double ValLossAll, double ValLossCommon, double ValBpc, double CharsPerSecond, double Seconds)
{
    /// <summary>The CSV header.</summary>
    public const string Header = "model,epoch,train_loss,val_loss_all,val_loss_common,val_bpc,chars_per_s,seconds";

    /// <summary>The row as CSV.</summary>
    public string ToCsv() => string.Join(
        ',',
        Model,
        Epoch.ToString(CultureInfo.InvariantCulture),
        Format(TrainLoss, "F6"),
        Format(ValLossAll, "F6"),
        Format(ValLossCommon, "F6"),
        Format(ValBpc, "F6"),
        Format(CharsPerSecond, "F0"),
        Format(Seconds, "F2"));

    /// <summary>Reads metrics.csv (an absent file has no rows).</summary>
    public static List<MetricsRow> ReadAll(string path)
    {
        var rows = new List<MetricsRow>();
        if (!File.Exists(path))
        {
            return rows;
        }

        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var f = line.Split(',');
            if (f.Length != 8)
            {
                throw new IOException($"{path} has a malformed row: '{line}'.");
            }

            rows.Add(new MetricsRow(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), Parse(f[2]), Parse(f[3]), Parse(f[4]), Parse(f[5]), Parse(f[6]), Parse(f[7])));
        }

        return rows;
    }

    /// <summary>Writes <paramref name="rows"/> as metrics.csv, replacing it atomically.</summary>
    public static void WriteAll(string path, IEnumerable<MetricsRow> rows)
    {
        var text = Header + "\n" + string.Concat(rows.Select(r => r.ToCsv() + "\n"));
        Models.Checkpoints.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
    }

    private static string Format(double value, string format) => double.IsNaN(value) ? "" : value.ToString(format, CultureInfo.InvariantCulture);

    private static double Parse(string text) => text.Length == 0 ? double.NaN : double.Parse(text, CultureInfo.InvariantCulture);
}
