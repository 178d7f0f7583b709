namespace Tensorlet.Models.Training;

/// <summary>n-gram examples: one n-gram id, the id of the next character, and that character's position in its sequence.</summary>
public sealed class WindowBatchSource : IBatchSource
{
    private readonly int[] ngrams;
    private readonly int[] targets;
    private readonly int[] positions;

    /// <summary>Wraps parallel arrays of n-gram ids, target character ids and target positions.</summary>
    public WindowBatchSource(int[] ngrams, int[] targets, int[] positions)
    {
        ArgumentNullException.ThrowIfNull(ngrams);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(positions);
        if (ngrams.Length != targets.Length || ngrams.Length != positions.Length)
        {
            throw new ArgumentException($"Window arrays differ in length: {ngrams.Length} n-grams, {targets.Length} targets, {positions.Length} positions.");
        }

        this.ngrams = ngrams;
        this.targets = targets;
        this.positions = positions;
    }

    /// <inheritdoc/>
    public int Count => ngrams.Length;

    /// <inheritdoc/>
    public int RowsPerExample => 1;

    /// <inheritdoc/>
    public int InputsPerExample => 1;

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        for (int i = 0; i < examples.Length; i++)
        {
            inputs[i] = ngrams[examples[i]];
            targets[i] = this.targets[examples[i]];
            positions[i] = this.positions[examples[i]];
        }
    }
}
