using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The n-gram model's examples as the app needs them: windows of each sequence with the position of their target,
/// so n-gram and LSTM scores can be compared on the same positions. Window i of a sequence reads characters
/// [i, i+n) and predicts character i+n. The first <c>limit</c> windows are taken (the notebook's 10), or, with no
/// limit, every window that has a target (positions n..L−1, one more than the notebook's range, so that
/// validation covers position 99 as the LSTM does).
/// </summary>
internal static class NgramWindowSet
{
    /// <summary>
    /// Every n-gram followed by a character in <paramref name="sequences"/> (pass all sequences, train and validation,
    /// as the notebook builds its vocabulary from everything: rows of n-grams that training never sees stay at their
    /// initial values).
    /// </summary>
    public static NgramVocabulary Vocabulary(IEnumerable<string> sequences, int n)
    {
        var ngrams = new HashSet<string>(StringComparer.Ordinal);
        var lookup = ngrams.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var sequence in sequences)
        {
            for (int i = 0; i + n < sequence.Length; i++)
            {
                lookup.Add(sequence.AsSpan(i, n));
            }
        }

        return NgramVocabulary.FromNgrams(n, ngrams);
    }

    /// <summary>Windows per sequence: the first <paramref name="limit"/>, or all (null).</summary>
    public static int PerSequence(int sequenceLength, int n, int? limit) => Math.Min(limit ?? int.MaxValue, Math.Max(0, sequenceLength - n));

    /// <summary>The windows of <paramref name="sequences"/>; windows whose n-gram is unknown are left out and counted.</summary>
    public static (WindowBatchSource Source, int Skipped) Create(IReadOnlyList<string> sequences, CharVocabulary characters, NgramVocabulary ngrams, int? limit)
    {
        int n = ngrams.NgramOrder;
        var inputs = new List<int>();
        var targets = new List<int>();
        var positions = new List<int>();
        int skipped = 0;
        foreach (var sequence in sequences)
        {
            var encoded = characters.Encode(sequence);
            int windows = PerSequence(sequence.Length, n, limit);
            for (int i = 0; i < windows; i++)
            {
                int id = ngrams.IndexOf(sequence.AsSpan(i, n));
                if (id < 0)
                {
                    skipped++;
                    continue;
                }

                inputs.Add(id);
                targets.Add(encoded[i + n]);
                positions.Add(i + n);
            }
        }

        return (new WindowBatchSource([.. inputs], [.. targets], [.. positions]), skipped);
    }
}
