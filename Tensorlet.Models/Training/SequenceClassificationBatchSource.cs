using Tensorlet.Kernels;

namespace Tensorlet.Models.Training;

/// <summary>
/// Labelled sequences for a sequence classifier (say Embedding → Lstm → Slice(-1, 1) → Linear): example i is the
/// <c>steps</c> token ids <c>tokens[i·steps .. (i+1)·steps)</c> and one class id,
/// <c>labels[i]</c>. A batch of B examples reaches the model time-major, [steps, B] (element t·B + b is step t of
/// sequence b), as <see cref="Nn.Lstm"/> and <see cref="Nn.Gru"/> read it unless made with <c>batchFirst: true</c>, and
/// the loss as B class ids. (<see cref="TensorBatchSource{TInput, TTarget}"/> is batch-first, [B, steps], for a
/// recurrent module made with <c>batchFirst: true</c>; one without would read it as B steps of <c>steps</c> sequences.)
/// </summary>
public sealed class SequenceClassificationBatchSource : IBatchSource
{
    private readonly int[] tokens;
    private readonly int[] labels;

    /// <summary>Wraps <paramref name="tokens"/> [N·steps], row-major by example, and <paramref name="labels"/> [N].</summary>
    /// <param name="tokens">Every example's token ids, one example after another.</param>
    /// <param name="steps">Token ids per example, at least 1.</param>
    /// <param name="labels">Each example's class id.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1, or an id is negative.</exception>
    /// <exception cref="ArgumentException">The arrays do not hold the same number of examples.</exception>
    public SequenceClassificationBatchSource(int[] tokens, int steps, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentChecks.ThrowIfNegativeOrZero(steps);
        if ((long)labels.Length * steps != tokens.Length)
        {
            throw new ArgumentException($"{tokens.Length} token ids are not {labels.Length} examples of {steps} steps (that would be {(long)labels.Length * steps}).", nameof(tokens));
        }

        if (Array.FindIndex(tokens, t => t < 0) is var token and >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), $"Token ids are at least 0; element {token} is {tokens[token]}.");
        }

        if (Array.FindIndex(labels, l => l < 0) is var label and >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(labels), $"Class ids are at least 0; example {label}'s is {labels[label]}.");
        }

        this.tokens = tokens;
        this.labels = labels;
        InputsPerExample = steps;
    }

    /// <inheritdoc/>
    public int Count => labels.Length;

    /// <inheritdoc/>
    public int RowsPerExample => 1;

    /// <inheritdoc/>
    public int InputsPerExample { get; }

    /// <summary>The class id of example <paramref name="example"/>.</summary>
    public int Label(int example) => labels[example];

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        int batch = examples.Length;
        int steps = InputsPerExample;
        for (int b = 0; b < batch; b++)
        {
            var sequence = tokens.AsSpan(examples[b] * steps, steps);
            for (int t = 0; t < steps; t++)
            {
                inputs[(t * batch) + b] = sequence[t];
            }

            targets[b] = labels[examples[b]];
            positions[b] = 0; // one prediction per sequence, at no position of it
        }
    }
}
