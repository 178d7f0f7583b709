using Tensorlet.Kernels;
using Tensorlet.Models.Data;

namespace Tensorlet.Models.Training;

/// <summary>
/// Independent windows of a text, char-rnn's default batching: window i is the <see cref="SequenceLength"/> + 1
/// characters from i·<see cref="SequenceLength"/>, giving inputs window[0..L) and targets window[1..L], so consecutive
/// windows share one character and every character but the first is a target once. A trailing part too short for
/// a window is left out. The <see cref="Trainer"/> reshuffles the windows every epoch. Layout is time-major
/// (row t·B + b), as <see cref="SequenceBatchSource"/>; the text stays in its compact <see cref="CharIds"/>.
/// </summary>
public sealed class TextWindowBatchSource : IBatchSource
{
    private readonly CharIds text;
    private readonly int[] window;

    /// <summary>Cuts <paramref name="text"/> into windows of <paramref name="sequenceLength"/> steps.</summary>
    public TextWindowBatchSource(CharIds text, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentChecks.ThrowIfNegativeOrZero(sequenceLength);
        this.text = text;
        SequenceLength = sequenceLength;
        window = new int[sequenceLength + 1];
    }

    /// <summary>L, the steps (predicted characters) per window.</summary>
    public int SequenceLength { get; }

    /// <inheritdoc/>
    public int Count => text.Length <= SequenceLength ? 0 : (text.Length - 1) / SequenceLength;

    /// <inheritdoc/>
    public int RowsPerExample => SequenceLength;

    /// <inheritdoc/>
    public int InputsPerExample => SequenceLength;

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        int batch = examples.Length;
        for (int b = 0; b < batch; b++)
        {
            int example = examples[b];
            if ((uint)example >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(examples), $"Example {example} at position {b} is outside the text's {Count} windows [0, {Count}).");
            }

            TimeMajorWindow.Fill(text, example * SequenceLength, window, b, batch, inputs, targets, positions);
        }
    }
}
