namespace Tensorlet.Models.Training;

/// <summary>Sums of losses and counts of targets per target position, as an <see cref="EvaluationResult"/> reports them.</summary>
internal sealed class PositionLosses
{
    private readonly List<double> sums = [];
    private readonly List<long> counts = [];

    public void Add(int position, double loss, long count)
    {
        while (sums.Count <= position)
        {
            sums.Add(0);
            counts.Add(0);
        }

        sums[position] += loss;
        counts[position] += count;
    }

    public EvaluationResult Result() => new([.. sums], [.. counts]);
}
