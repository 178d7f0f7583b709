using ScottPlot;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>loss.png: training and validation loss of each model per epoch, on one chart.</summary>
internal static class LossChart
{
    /// <summary>The chart's size in pixels.</summary>
    public const int Width = 900, Height = 560;

    /// <summary>Draws the rows of metrics.csv to <paramref name="path"/>, replacing it atomically (<see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IReadOnlyList<MetricsRow> rows)
    {
        var plot = new Plot();
        foreach (var group in rows.GroupBy(r => r.Model))
        {
            var ordered = group.OrderBy(r => r.Epoch).ToArray();
            double[] epochs = [.. ordered.Select(r => (double)r.Epoch)];
            var train = plot.Add.Scatter(epochs, ordered.Select(r => r.TrainLoss).ToArray());
            train.LegendText = $"{group.Key} train";
            var validation = plot.Add.Scatter(epochs, ordered.Select(r => r.ValLossCommon).ToArray());
            validation.LegendText = $"{group.Key} validation (positions n..99)";
            validation.LinePattern = LinePattern.Dashed;
            validation.Color = train.Color;
            if (group.Key == "lstm")
            {
                var all = plot.Add.Scatter(epochs, ordered.Select(r => r.ValLossAll).ToArray());
                all.LegendText = "lstm validation (all positions)";
                all.LinePattern = LinePattern.Dotted;
                all.Color = train.Color;
            }
        }

        plot.Title("Character prediction on 20 Newsgroups");
        plot.XLabel("epoch");
        plot.YLabel("cross-entropy (nats per character)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }
}
