namespace Tensorlet.Models.Training;

/// <summary>Cross-entropy of a model over a dataset, in total and per target position.</summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(double[] lossSumByPosition, long[] countByPosition)
    {
        LossSumByPosition = lossSumByPosition;
        CountByPosition = countByPosition;
    }

    /// <summary>Σ loss (nats) of the targets at each position in their sequence.</summary>
    public IReadOnlyList<double> LossSumByPosition { get; }

    /// <summary>How many targets sit at each position.</summary>
    public IReadOnlyList<long> CountByPosition { get; }

    /// <summary>The number of targets scored.</summary>
    public long Count => CountByPosition.Sum();

    /// <summary>The mean loss in nats per character over every target.</summary>
    public double Loss => MeanLoss(0, LossSumByPosition.Count - 1);

    /// <summary>The mean loss in bits per character over every target.</summary>
    public double BitsPerCharacter => Loss / Math.Log(2);

    /// <summary>The mean loss in nats over targets at positions <paramref name="first"/> to <paramref name="last"/> inclusive.</summary>
    public double MeanLoss(int first, int last)
    {
        double sum = 0;
        long count = 0;
        for (int p = Math.Max(0, first); p <= Math.Min(last, LossSumByPosition.Count - 1); p++)
        {
            sum += LossSumByPosition[p];
            count += CountByPosition[p];
        }

        return count == 0 ? double.NaN : sum / count;
    }
}
