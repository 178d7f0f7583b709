using ScottPlot;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>loss.png: training and validation loss of each model per epoch, on one chart.</summary>
internal static class LossChart
{
    /// <summary>The chart's size in pixels.</summary>
    public const int Width = 900, Height = 560;

    /// <summary>Draws the rows of metrics.csv to <paramref name="path"/>, replacing it atomically (<see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IReadOnlyList<MetricsRow> rows, ChartSubject subject)
    {
        var plot = new Plot();
        var colors = new Dictionary<string, Color>(StringComparer.Ordinal);
        foreach (var line in Lines(rows, subject))
        {
            var scatter = plot.Add.Scatter(line.Rows.Select(r => (double)r.Epoch).ToArray(), line.Rows.Select(line.Loss).ToArray());
            scatter.LegendText = line.Legend;
            scatter.LinePattern = line.Pattern;

            // A model's first line takes the palette's next colour; its other lines share it.
            if (colors.TryGetValue(line.Model, out var color))
            {
                scatter.Color = color;
            }
            else
            {
                colors[line.Model] = scatter.Color;
            }
        }

        plot.Title(Title(subject));
        plot.XLabel("epoch");
        plot.YLabel("cross-entropy (nats per character)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>The chart's title: what the run trained on.</summary>
    public static string Title(ChartSubject subject) => $"Character prediction on {subject.Name}";

    /// <summary>The legend, one entry per line in the order drawn.</summary>
    public static IReadOnlyList<string> Legend(IReadOnlyList<MetricsRow> rows, ChartSubject subject) => [.. Lines(rows, subject).Select(l => l.Legend)];

    // Each model's training loss (solid) and validation loss (dashed), in one colour. On 20 Newsgroups the validation
    // line is val_loss_common (positions n..99, where both models predict), and the recurrent model also gets
    // val_loss_all (dotted); a text's validation is every character each model predicts, so it has one line.
    private static IEnumerable<ChartLine> Lines(IReadOnlyList<MetricsRow> rows, ChartSubject subject)
    {
        foreach (var group in rows.GroupBy(r => r.Model))
        {
            var ordered = group.OrderBy(r => r.Epoch).ToArray();
            yield return new ChartLine(group.Key, $"{group.Key} train", ordered, r => r.TrainLoss, LinePattern.Solid);
            if (subject.ScoredOnCommonPositions)
            {
                yield return new ChartLine(group.Key, $"{group.Key} validation (positions n..99)", ordered, r => r.ValLossCommon, LinePattern.Dashed);
                if (group.Key != "ngram")
                {
                    yield return new ChartLine(group.Key, $"{group.Key} validation (all positions)", ordered, r => r.ValLossAll, LinePattern.Dotted);
                }
            }
            else
            {
                yield return new ChartLine(group.Key, $"{group.Key} validation", ordered, r => r.ValLossAll, LinePattern.Dashed);
            }
        }
    }

    private sealed record ChartLine(string Model, string Legend, MetricsRow[] Rows, Func<MetricsRow, double> Loss, LinePattern Pattern);
}

/// <summary>
/// What a run's chart is of: <see cref="Newsgroups"/>, whose validation losses are scored on positions n..99 of each
/// sequence as well as on all of them, or a <see cref="Text"/> of the user's, scored on every character.
/// </summary>
/// <param name="Name">The name in the chart's title.</param>
/// <param name="ScoredOnCommonPositions">Whether metrics.csv's val_loss_common is over positions n..99 (20 Newsgroups).</param>
internal sealed record ChartSubject(string Name, bool ScoredOnCommonPositions)
{
    /// <summary>20 Newsgroups.</summary>
    public static ChartSubject Newsgroups { get; } = new("20 Newsgroups", ScoredOnCommonPositions: true);

    /// <summary>A <c>--text</c> file or folder, named by its last path component.</summary>
    public static ChartSubject Text(string path) => new(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))), ScoredOnCommonPositions: false);
}
