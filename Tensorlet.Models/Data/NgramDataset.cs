using Tensorlet.Models.Training;

namespace Tensorlet.Models.Data;

/// <summary>
/// The notebook's n-gram training pairs as integer indices (no one-hot): for each window of each sequence
/// (<see cref="NgramWindows"/>), the index of its n-gram in an <see cref="NgramVocabulary"/> and the index of the
/// next character in a <see cref="CharVocabulary"/>. Windows whose n-gram is not in the vocabulary (held-out data
/// against a vocabulary built from training data) are left out and counted in <see cref="SkippedWindows"/>.
/// On the full corpus: 16828 sequences × 10 = 168,280 windows.
/// </summary>
public sealed class NgramDataset
{
    private NgramDataset(int ngramOrder, int[] inputs, int[] targets, int[] contexts, int[] sequenceOf, int[] positions, int skipped)
    {
        Positions = positions;
        NgramOrder = ngramOrder;
        Inputs = inputs;
        Targets = targets;
        Contexts = contexts;
        SequenceOf = sequenceOf;
        SkippedWindows = skipped;
    }

    /// <summary>The n of the n-grams: characters per n-gram.</summary>
    public int NgramOrder { get; }

    /// <summary>The number of windows.</summary>
    public int Count => Targets.Length;

    /// <summary>Per window, the index of its input n-gram in the n-gram vocabulary.</summary>
    public int[] Inputs { get; }

    /// <summary>Per window, the index of the character that follows the n-gram.</summary>
    public int[] Targets { get; }

    /// <summary>Per window, its n input characters as character indices: [<see cref="Count"/>, <see cref="NgramOrder"/>], row-major.</summary>
    public int[] Contexts { get; }

    /// <summary>Per window, the index of the sequence it was cut from.</summary>
    public int[] SequenceOf { get; }

    /// <summary>Per window, the position of its target in its sequence, counted in characters: i + n for window i.</summary>
    public int[] Positions { get; }

    /// <summary>Windows left out because their n-gram is not in the vocabulary.</summary>
    public int SkippedWindows { get; }

    /// <summary>
    /// Cuts the windows of <paramref name="sequences"/> in order (sequence by sequence, i ascending).
    /// <paramref name="windowsPerSequence"/>: null takes every window.
    /// </summary>
    /// <exception cref="UnknownCharacterException">A sequence holds a character outside <paramref name="characters"/>.</exception>
    public static NgramDataset Create(
        IReadOnlyList<string> sequences, CharVocabulary characters, NgramVocabulary ngrams, int? windowsPerSequence = NgramWindows.NotebookWindowsPerSequence)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(characters);
        ArgumentNullException.ThrowIfNull(ngrams);
        int n = ngrams.NgramOrder;
        var starts = new int[sequences.Count][];
        long capacity = 0;
        for (int s = 0; s < sequences.Count; s++)
        {
            starts[s] = NgramWindows.CharacterStarts(sequences[s]);
            capacity += NgramWindows.PerSequence(starts[s].Length - 1, n, windowsPerSequence);
        }

        var inputs = new List<int>((int)capacity);
        var targets = new List<int>((int)capacity);
        var contexts = new List<int>((int)capacity * n);
        var sequenceOf = new List<int>((int)capacity);
        var positions = new List<int>((int)capacity);
        int skipped = 0;
        int[] encoded = [];
        for (int s = 0; s < sequences.Count; s++)
        {
            var sequence = sequences[s];
            int length = starts[s].Length - 1;
            int windows = NgramWindows.PerSequence(length, n, windowsPerSequence);
            if (windows == 0)
            {
                continue;
            }

            if (encoded.Length < length)
            {
                encoded = new int[length];
            }

            characters.Encode(sequence, encoded.AsSpan(0, length));
            for (int i = 0; i < windows; i++)
            {
                int ngram = ngrams.IndexOf(NgramWindows.Ngram(sequence, starts[s], i, n));
                if (ngram < 0)
                {
                    skipped++;
                    continue;
                }

                inputs.Add(ngram);
                targets.Add(encoded[i + n]);
                contexts.AddRange(encoded.AsSpan(i, n));
                sequenceOf.Add(s);
                positions.Add(i + n);
            }
        }

        return new NgramDataset(n, [.. inputs], [.. targets], [.. contexts], [.. sequenceOf], [.. positions], skipped);
    }

    /// <summary>The windows as training or validation examples: n-gram id, target id and target position.</summary>
    public WindowBatchSource ToBatchSource() => new(Inputs, Targets, Positions);

    /// <summary>Copies the inputs and targets of the windows <paramref name="windows"/> into a batch.</summary>
    public void FillBatch(ReadOnlySpan<int> windows, Span<int> inputs, Span<int> targets)
    {
        if (inputs.Length != windows.Length || targets.Length != windows.Length)
        {
            throw new ArgumentException($"A batch of {windows.Length} windows needs {windows.Length} inputs and targets; got {inputs.Length} and {targets.Length}.");
        }

        for (int b = 0; b < windows.Length; b++)
        {
            inputs[b] = Inputs[windows[b]];
            targets[b] = Targets[windows[b]];
        }
    }
}
