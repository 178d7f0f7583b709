namespace Tensorlet.Models.Training;

/// <summary>
/// Examples a model trains or is evaluated on, as torch.utils.data's Dataset: the <see cref="Trainer"/> draws example
/// numbers, the source writes those examples' inputs and targets as host values into buffers the trainer owns, and the
/// trainer copies them to the device in the shapes the source gives. Inputs of <see cref="int"/> reach the model as an
/// <see cref="IndexTensor"/> (token ids), of <see cref="float"/> as a <see cref="Tensor"/>; the targets likewise reach
/// the loss, flat: class ids for <c>CrossEntropyLoss</c>, values for <c>MseLoss</c>.
/// </summary>
/// <typeparam name="TInput"><see cref="int"/> (token ids) or <see cref="float"/> (values).</typeparam>
/// <typeparam name="TTarget"><see cref="int"/> (class ids) or <see cref="float"/> (values).</typeparam>
public interface IBatchSource<TInput, TTarget>
    where TInput : unmanaged
    where TTarget : unmanaged
{
    /// <summary>The number of examples.</summary>
    int Count { get; }

    /// <summary>Input elements per example.</summary>
    int InputsPerExample { get; }

    /// <summary>Target elements per example.</summary>
    int TargetsPerExample { get; }

    /// <summary>Rows of the loss per example, each with its position in <see cref="Fill"/>: the predicted characters of a sequence, or 1 (a window, a classified sequence, a row of target values).</summary>
    int RowsPerExample { get; }

    /// <summary>The shape in which the inputs of <paramref name="examples"/> examples reach the model.</summary>
    int[] InputShape(int examples);

    /// <summary>
    /// Writes the inputs of <paramref name="examples"/> in the layout <see cref="InputShape"/> describes, their targets
    /// in the layout of the model's output rows (the loss takes them flat), and for every loss row its position in its
    /// sequence (the index of the predicted character; 0 where there is no sequence).
    /// </summary>
    void Fill(ReadOnlySpan<int> examples, Span<TInput> inputs, Span<TTarget> targets, Span<int> positions);
}

/// <summary>
/// Token-id examples with one class id per loss row, as the char models and sequence classifiers take them, cut into
/// batches on the host as plain indices (nothing one-hot). An example is a sequence for the LSTM and a window for the
/// n-gram model. A batch of B examples reaches the model as [InputsPerExample, B] (time-major for sequences: element
/// t·B + b is step t of sequence b) and the loss as [RowsPerExample·B] class ids.
/// </summary>
public interface IBatchSource : IBatchSource<int, int>
{
    /// <inheritdoc/>
    int IBatchSource<int, int>.TargetsPerExample => RowsPerExample;

    /// <inheritdoc/>
    int[] IBatchSource<int, int>.InputShape(int examples) => [InputsPerExample, examples];
}
