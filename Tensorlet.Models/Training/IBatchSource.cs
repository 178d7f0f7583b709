namespace Tensorlet.Models.Training;

/// <summary>
/// Examples a model trains or is evaluated on, cut into batches on the host as plain indices
/// (nothing one-hot). An example is a sequence for the LSTM and a window for the n-gram model.
/// </summary>
public interface IBatchSource
{
    /// <summary>The number of examples.</summary>
    int Count { get; }

    /// <summary>Output rows (predicted characters) per example: 99 for a 100-character sequence, 1 for a window.</summary>
    int RowsPerExample { get; }

    /// <summary>Input ids per example.</summary>
    int InputsPerExample { get; }

    /// <summary>
    /// Writes the inputs and targets of <paramref name="examples"/> in the model's layout, and for every
    /// target row its position in its sequence (the index of the predicted character).
    /// </summary>
    void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions);
}
