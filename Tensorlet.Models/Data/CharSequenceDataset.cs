using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// The LSTM's data: every sequence as character indices in one [<see cref="Count"/>, <see cref="SequenceLength"/>]
/// row-major array. Sequence s gives <see cref="Steps"/> = L − 1 steps: inputs s[0..L−1), targets s[1..L)
/// (views of the same row, no copies).
/// </summary>
public sealed class CharSequenceDataset
{
    private CharSequenceDataset(int[] indices, int count, int sequenceLength)
    {
        Indices = indices;
        Count = count;
        SequenceLength = sequenceLength;
    }

    /// <summary>The number of sequences.</summary>
    public int Count { get; }

    /// <summary>The characters per sequence (100 for the corpus).</summary>
    public int SequenceLength { get; }

    /// <summary>Time steps per sequence: <see cref="SequenceLength"/> − 1.</summary>
    public int Steps => SequenceLength - 1;

    /// <summary>All sequences as character indices, [<see cref="Count"/>, <see cref="SequenceLength"/>], row-major.</summary>
    public int[] Indices { get; }

    /// <summary>
    /// Encodes <paramref name="sequences"/>: at least one, all of the same length (at least 2).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="sequences"/> is empty (its sequence length would be made
    /// up), or the sequences are shorter than 2 characters or of different lengths.</exception>
    /// <exception cref="UnknownCharacterException">A sequence holds a character outside <paramref name="characters"/>.</exception>
    public static CharSequenceDataset Create(IReadOnlyList<string> sequences, CharVocabulary characters)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(characters);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("There are no sequences; a dataset takes its sequence length from them, so it needs at least one.", nameof(sequences));
        }

        int length = sequences[0].Length;
        if (length < 2)
        {
            throw new ArgumentException($"Sequences need at least 2 characters to give an input and a target; the first has {length}.", nameof(sequences));
        }

        var indices = new int[checked(sequences.Count * length)];
        for (int s = 0; s < sequences.Count; s++)
        {
            if (sequences[s].Length != length)
            {
                throw new ArgumentException($"Sequence {s} has {sequences[s].Length} characters; the others have {length}.", nameof(sequences));
            }

            characters.Encode(sequences[s], indices.AsSpan(s * length, length));
        }

        return new CharSequenceDataset(indices, sequences.Count, length);
    }

    /// <summary>Sequence <paramref name="index"/> as character indices.</summary>
    public ReadOnlySpan<int> Sequence(int index) => Indices.AsSpan(Row(index), SequenceLength);

    /// <summary>The inputs of sequence <paramref name="index"/>: its first L − 1 characters.</summary>
    public ReadOnlySpan<int> Inputs(int index) => Indices.AsSpan(Row(index), Steps);

    /// <summary>The targets of sequence <paramref name="index"/>: its last L − 1 characters.</summary>
    public ReadOnlySpan<int> Targets(int index) => Indices.AsSpan(Row(index) + 1, Steps);

    /// <summary>
    /// Copies the inputs and targets of <paramref name="sequences"/> (B sequence indices) into [<see cref="Steps"/>, B]
    /// time-major buffers (element [t, b] at t·B + b), the layout a step-by-step LSTM reads.
    /// </summary>
    public void FillBatchTimeMajor(ReadOnlySpan<int> sequences, Span<int> inputs, Span<int> targets)
    {
        int batch = sequences.Length;
        CheckBatch(batch, inputs, targets);
        for (int b = 0; b < batch; b++)
        {
            var row = Sequence(sequences[b]);
            for (int t = 0; t < Steps; t++)
            {
                inputs[(t * batch) + b] = row[t];
                targets[(t * batch) + b] = row[t + 1];
            }
        }
    }

    /// <summary>Copies the inputs and targets of <paramref name="sequences"/> into [B, <see cref="Steps"/>] batch-major buffers.</summary>
    public void FillBatchBatchMajor(ReadOnlySpan<int> sequences, Span<int> inputs, Span<int> targets)
    {
        int batch = sequences.Length;
        CheckBatch(batch, inputs, targets);
        for (int b = 0; b < batch; b++)
        {
            Inputs(sequences[b]).CopyTo(inputs.Slice(b * Steps, Steps));
            Targets(sequences[b]).CopyTo(targets.Slice(b * Steps, Steps));
        }
    }

    private int Row(int index)
    {
        ArgumentChecks.ThrowIfOutside(index, 0, Count);
        return index * SequenceLength;
    }

    private void CheckBatch(int batch, Span<int> inputs, Span<int> targets)
    {
        if (inputs.Length != batch * Steps || targets.Length != batch * Steps)
        {
            throw new ArgumentException($"A batch of {batch} sequences needs {batch * Steps} inputs and targets; got {inputs.Length} and {targets.Length}.");
        }
    }
}
