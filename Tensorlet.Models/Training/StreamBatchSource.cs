using Tensorlet.Kernels;
using Tensorlet.Models.Data;

namespace Tensorlet.Models.Training;

/// <summary>
/// Stateful batching, PyTorch word_language_model's scheme for truncated backpropagation through time: the text is
/// cut into <see cref="Streams"/> equal parallel streams (the remainder that does not divide is left out, as its
/// <c>batchify</c>), and batch j holds, for every stream, the <see cref="SequenceLength"/> characters from
/// j·<see cref="SequenceLength"/> (targets one further). Batch j + 1 continues batch j in every stream, so a model
/// that carries its recurrent state from batch to batch (with the gradient cut at the boundary) reads each stream as
/// one long sequence. A last chunk shorter than <see cref="SequenceLength"/> is left out, which keeps every batch
/// the same shape.
/// <para>
/// Example k is stream k mod <see cref="Streams"/> of batch k / <see cref="Streams"/>, so batches of
/// <see cref="Streams"/> consecutive examples, taken in order, are exactly the batches above; the
/// <see cref="Trainer"/> takes them so and never shuffles them. Layout is time-major (row t·B + b).
/// </para>
/// </summary>
public sealed class StreamBatchSource : IBatchSource
{
    private readonly CharIds text;
    private readonly int[] chunk;

    /// <summary>Cuts <paramref name="text"/> into <paramref name="streams"/> streams read <paramref name="sequenceLength"/> steps at a time.</summary>
    public StreamBatchSource(CharIds text, int streams, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentChecks.ThrowIfNegativeOrZero(streams);
        ArgumentChecks.ThrowIfNegativeOrZero(sequenceLength);
        this.text = text;
        Streams = streams;
        SequenceLength = sequenceLength;
        StreamLength = text.Length / streams;
        Batches = StreamLength <= sequenceLength ? 0 : (StreamLength - 1) / sequenceLength;
        chunk = new int[sequenceLength + 1];
    }

    /// <summary>B, the parallel streams, which is the batch size.</summary>
    public int Streams { get; }

    /// <summary>L, the steps per batch.</summary>
    public int SequenceLength { get; }

    /// <summary>Characters per stream: stream s is the text's characters [s·this, (s + 1)·this).</summary>
    public int StreamLength { get; }

    /// <summary>Batches per pass over the streams.</summary>
    public int Batches { get; }

    /// <inheritdoc/>
    public int Count => Batches * Streams;

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
                throw new ArgumentOutOfRangeException(nameof(examples), $"Example {example} at position {b} is outside the streams' {Count} examples [0, {Count}).");
            }

            int stream = example % Streams;
            int step = example / Streams;
            TimeMajorWindow.Fill(text, (stream * StreamLength) + (step * SequenceLength), chunk, b, batch, inputs, targets, positions);
        }
    }
}
