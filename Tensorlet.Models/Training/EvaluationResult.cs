namespace Tensorlet.Models.Training;

/// <summary>
/// A model's loss over a dataset, per target and per target position, in the loss's own units: nats for
/// <c>CrossEntropyLoss</c>, squared target units for <c>MseLoss</c>. A target is one term the loss averages over (see
/// <see cref="BatchProgress"/>): a char model's predicted character, a classifier's example, one regression value.
/// Figures derived from the loss are the caller's: of a cross-entropy, bits per target (a char model's bits per
/// character) is <see cref="Loss"/> / ln 2, perplexity e^<see cref="Loss"/>.
/// </summary>
public sealed class EvaluationResult
{
    internal EvaluationResult(double[] lossSumByPosition, long[] countByPosition)
    {
        LossSumByPosition = lossSumByPosition;
        CountByPosition = countByPosition;
    }

    /// <summary>Σ loss of the targets at each position in their sequence (all at position 0 where there is no sequence, or the loss is not a <c>CrossEntropyLoss</c> or <c>NllLoss</c>).</summary>
    public IReadOnlyList<double> LossSumByPosition { get; }

    /// <summary>How many targets sit at each position.</summary>
    public IReadOnlyList<long> CountByPosition { get; }

    /// <summary>The number of targets scored.</summary>
    public long Count => CountByPosition.Sum();

    /// <summary>The mean loss per target over every target, in the loss's units.</summary>
    public double Loss => MeanLoss(0, LossSumByPosition.Count - 1);

    /// <summary>The mean loss per target over targets at positions <paramref name="first"/> to <paramref name="last"/> inclusive, in the loss's units; NaN where there are none.</summary>
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
