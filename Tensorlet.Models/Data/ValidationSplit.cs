using System.Globalization;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// A deterministic train/validation split of sequences, made by document (one sequence per post), in which
/// identical sequences (the corpus has reposted FAQs: 16300 distinct among 16828) always land on the same side,
/// so validation never scores text seen in training. Identical sequences are grouped, the groups are shuffled
/// by a seeded SplitMix64 Fisher–Yates shuffle (the same on every machine and .NET version), and whole groups go to
/// validation until it holds round(fraction × count) sequences or just over.
/// </summary>
public sealed class ValidationSplit
{
    /// <summary>The default share of sequences held out: 10%.</summary>
    public const double DefaultFraction = 0.1;

    /// <summary>The default seed.</summary>
    public const ulong DefaultSeed = 42;

    private ValidationSplit(int[] train, int[] validation)
    {
        Train = train;
        Validation = validation;
    }

    /// <summary>Indices of the training sequences, ascending.</summary>
    public int[] Train { get; }

    /// <summary>Indices of the validation sequences, ascending.</summary>
    public int[] Validation { get; }

    /// <summary>Splits <paramref name="sequences"/>; the same inputs, fraction and seed always give the same split.</summary>
    public static ValidationSplit Create(IReadOnlyList<string> sequences, double fraction = DefaultFraction, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), string.Create(CultureInfo.InvariantCulture, $"The validation fraction is between 0 and 1; got {fraction}."));
        }

        // Group identical sequences; groups are numbered by first appearance.
        var groupOf = new int[sequences.Count];
        var groupIds = new Dictionary<string, int>(sequences.Count, StringComparer.Ordinal);
        var groupSizes = new List<int>();
        for (int i = 0; i < sequences.Count; i++)
        {
            if (!groupIds.TryGetValue(sequences[i], out int group))
            {
                group = groupSizes.Count;
                groupIds.Add(sequences[i], group);
                groupSizes.Add(0);
            }

            groupOf[i] = group;
            groupSizes[group]++;
        }

        var order = new int[groupSizes.Count];
        for (int g = 0; g < order.Length; g++)
        {
            order[g] = g;
        }

        ulong state = seed;
        for (int g = order.Length - 1; g > 0; g--)
        {
            int j = (int)(((UInt128)SplitMix64(ref state) * (ulong)(g + 1)) >> 64);
            (order[g], order[j]) = (order[j], order[g]);
        }

        int target = (int)Math.Round(fraction * sequences.Count, MidpointRounding.AwayFromZero);
        var held = new bool[groupSizes.Count];
        int heldCount = 0;
        for (int k = 0; k < order.Length && heldCount < target; k++)
        {
            held[order[k]] = true;
            heldCount += groupSizes[order[k]];
        }

        var train = new List<int>(sequences.Count - heldCount);
        var validation = new List<int>(heldCount);
        for (int i = 0; i < sequences.Count; i++)
        {
            (held[groupOf[i]] ? validation : train).Add(i);
        }

        return new ValidationSplit([.. train], [.. validation]);
    }

    /// <summary>
    /// The notebook's split: the first <c>int(count × (1 − fraction))</c> sequences train, the rest validate (use it with
    /// <see cref="NewsgroupsOrder.ScikitLearnShuffled"/> to hold out the notebook's exact last 10%). Unlike
    /// <see cref="Create"/>, reposted duplicates may fall on both sides.
    /// </summary>
    public static ValidationSplit Tail(int count, double fraction = DefaultFraction)
    {
        ArgumentChecks.ThrowIfNegative(count);
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), string.Create(CultureInfo.InvariantCulture, $"The validation fraction is between 0 and 1; got {fraction}."));
        }

        int train = (int)(count * (1 - fraction));
        return new ValidationSplit(Enumerable.Range(0, train).ToArray(), Enumerable.Range(train, count - train).ToArray());
    }

    /// <summary>The items at <paramref name="indices"/>, e.g. <c>Select(corpus.Sequences, split.Train)</c>.</summary>
    public static T[] Select<T>(IReadOnlyList<T> items, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(indices);
        var selected = new T[indices.Count];
        for (int i = 0; i < selected.Length; i++)
        {
            selected[i] = items[indices[i]];
        }

        return selected;
    }

    // SplitMix64 (Steele, Lea, Flood 2014): a tiny, portable, well-mixed 64-bit generator.
    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
