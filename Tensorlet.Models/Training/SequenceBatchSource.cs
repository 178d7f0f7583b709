using Tensorlet.Kernels;

namespace Tensorlet.Models.Training;

/// <summary>
/// LSTM examples: each sequence of L character ids gives inputs seq[0..L−1) and targets seq[1..L),
/// laid out time-major (row t·B + b), which is what <see cref="Modeling.LstmCharModel"/> expects.
/// </summary>
public sealed class SequenceBatchSource : IBatchSource
{
    private readonly int[] sequences;

    /// <summary>Wraps whole sequences of <paramref name="sequenceLength"/> ids stored one after another in <paramref name="sequences"/>.</summary>
    public SequenceBatchSource(int[] sequences, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentChecks.ThrowIfLessThan(sequenceLength, 2);
        if (sequences.Length % sequenceLength != 0)
        {
            throw new ArgumentException($"{sequences.Length} ids do not make whole sequences of {sequenceLength}.", nameof(sequences));
        }

        this.sequences = sequences;
        SequenceLength = sequenceLength;
    }

    /// <summary>L, the characters per sequence.</summary>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int Count => sequences.Length / SequenceLength;

    /// <inheritdoc/>
    public int RowsPerExample => SequenceLength - 1;

    /// <inheritdoc/>
    public int InputsPerExample => SequenceLength - 1;

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        int batch = examples.Length;
        int steps = SequenceLength - 1;
        for (int b = 0; b < batch; b++)
        {
            var sequence = sequences.AsSpan(examples[b] * SequenceLength, SequenceLength);
            for (int t = 0; t < steps; t++)
            {
                int row = (t * batch) + b;
                inputs[row] = sequence[t];
                targets[row] = sequence[t + 1];
                positions[row] = t + 1;
            }
        }
    }
}
