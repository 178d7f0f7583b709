namespace Tensorlet.Models.Training;

/// <summary>
/// Examples held in two host arrays whose first dimension is the example, as torch.utils.data.TensorDataset: example i
/// is row i of the inputs and row i of the targets, and a batch of B examples reaches the model as
/// [B, ...inputShape] and its targets reach the loss as [B, ...targetShape] values (the <see cref="Trainer"/> views them
/// in the prediction's shape, which MseLoss pairs element by element).
/// <para>
/// For a regression, <c>new TensorBatchSource&lt;float, float&gt;(x, [features], y, [outputs])</c> with an
/// <c>MseLoss</c>; for a classifier of feature vectors, <c>TensorBatchSource&lt;float, int&gt;(x, [features], classIds, [])</c>
/// with a <c>CrossEntropyLoss</c>. Batches are batch-first, as a recurrent module made with <c>batchFirst: true</c> reads
/// sequences; for one that reads them time-major, [T, B], they come from
/// <see cref="SequenceClassificationBatchSource"/> (one class per sequence) or <see cref="SequenceBatchSource"/>.
/// </para>
/// </summary>
/// <typeparam name="TInput"><see cref="float"/> (values) or <see cref="int"/> (token ids).</typeparam>
/// <typeparam name="TTarget"><see cref="float"/> (values) or <see cref="int"/> (class ids).</typeparam>
public sealed class TensorBatchSource<TInput, TTarget> : IBatchSource<TInput, TTarget>
    where TInput : unmanaged
    where TTarget : unmanaged
{
    private readonly TInput[] inputs;
    private readonly TTarget[] targets;
    private readonly int[] inputShape;

    /// <summary>Wraps <paramref name="inputs"/> [N, ...inputShape] and <paramref name="targets"/> [N, ...targetShape], row-major.</summary>
    /// <param name="inputs">The inputs of every example, one after another.</param>
    /// <param name="inputShape">One example's input shape ([] for one value).</param>
    /// <param name="targets">The targets of every example, one after another.</param>
    /// <param name="targetShape">One example's target shape ([] for one value or class id).</param>
    /// <exception cref="ArgumentException">A type is neither float nor int, or the arrays do not hold the same number of examples.</exception>
    public TensorBatchSource(TInput[] inputs, int[] inputShape, TTarget[] targets, int[] targetShape)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(targetShape);
        if (!BatchTensors.IsElementType<TInput>() || !BatchTensors.IsElementType<TTarget>())
        {
            throw new ArgumentException($"Inputs and targets are float or int; got {typeof(TInput).Name} and {typeof(TTarget).Name}.");
        }

        InputsPerExample = ElementCount(inputShape, nameof(inputShape));
        TargetsPerExample = ElementCount(targetShape, nameof(targetShape));
        if (inputs.Length % InputsPerExample != 0 || targets.Length % TargetsPerExample != 0
            || inputs.Length / InputsPerExample != targets.Length / TargetsPerExample)
        {
            throw new ArgumentException($"{inputs.Length} inputs of shape {Tensor.FormatShape(inputShape)} and {targets.Length} targets of shape {Tensor.FormatShape(targetShape)} are not the same number of examples.");
        }

        this.inputs = inputs;
        this.targets = targets;
        this.inputShape = [.. inputShape];
        Count = inputs.Length / InputsPerExample;

        // A class id is one loss row; a row of values is one (MSE's rows are the target's leading dimensions).
        RowsPerExample = typeof(TTarget) == typeof(int) || targetShape.Length == 0 ? TargetsPerExample : TargetsPerExample / targetShape[^1];
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public int InputsPerExample { get; }

    /// <inheritdoc/>
    public int TargetsPerExample { get; }

    /// <inheritdoc/>
    public int RowsPerExample { get; }

    /// <inheritdoc/>
    public int[] InputShape(int examples) => [examples, .. inputShape];

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<TInput> inputs, Span<TTarget> targets, Span<int> positions)
    {
        for (int i = 0; i < examples.Length; i++)
        {
            int e = examples[i];
            this.inputs.AsSpan(e * InputsPerExample, InputsPerExample).CopyTo(inputs.Slice(i * InputsPerExample, InputsPerExample));
            this.targets.AsSpan(e * TargetsPerExample, TargetsPerExample).CopyTo(targets.Slice(i * TargetsPerExample, TargetsPerExample));
        }

        positions[..(examples.Length * RowsPerExample)].Clear();
    }

    private static int ElementCount(int[] shape, string name)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 1)
            {
                throw new ArgumentOutOfRangeException(name, $"Every size of {name} must be at least 1; got {Tensor.FormatShape(shape)}.");
            }

            count *= d;
        }

        return count <= Array.MaxLength ? (int)count : throw new ArgumentOutOfRangeException(name, $"One example of shape {Tensor.FormatShape(shape)} has more than {Array.MaxLength} elements.");
    }
}
