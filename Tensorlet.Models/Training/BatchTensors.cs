using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>
/// The two element types a batch moves, float (<see cref="Tensor"/>) and int (<see cref="IndexTensor"/>), behind one
/// generic face: allocation, views, the module's Forward overload and the loss of that target type.
/// </summary>
internal static class BatchTensors
{
    public static bool IsElementType<T>()
        where T : unmanaged
        => typeof(T) == typeof(float) || typeof(T) == typeof(int);

    public static DeviceTensor<T> Zeros<T>(Device device, int length)
        where T : unmanaged
        => typeof(T) == typeof(float) ? (DeviceTensor<T>)(object)device.Zeros(length)
            : typeof(T) == typeof(int) ? (DeviceTensor<T>)(object)device.IndexZeros(length)
            : throw new NotSupportedException($"Batches hold float or int, not {typeof(T).Name}.");

    public static DeviceTensor<T> Slice<T>(DeviceTensor<T> tensor, int start, int count)
        where T : unmanaged
        => tensor switch
        {
            Tensor t => (DeviceTensor<T>)(object)t.Slice(start, count),
            IndexTensor t => (DeviceTensor<T>)(object)t.Slice(start, count),
            _ => throw new NotSupportedException(tensor.GetType().Name),
        };

    public static DeviceTensor<T> Reshape<T>(DeviceTensor<T> tensor, int[] shape)
        where T : unmanaged
        => tensor switch
        {
            Tensor t => (DeviceTensor<T>)(object)t.Reshape(shape),
            IndexTensor t => (DeviceTensor<T>)(object)t.Reshape(shape),
            _ => throw new NotSupportedException(tensor.GetType().Name),
        };

    /// <summary>The module's Forward for float input or for token ids.</summary>
    public static Tensor Forward<T>(Module module, DeviceTensor<T> input)
        where T : unmanaged
        => input switch
        {
            Tensor t => module.Forward(t),
            IndexTensor t => module.Forward(t),
            _ => throw new NotSupportedException(input.GetType().Name),
        };

    /// <summary>Checks that <paramref name="loss"/> takes targets of <typeparamref name="TTarget"/>: class ids for int, values for float.</summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public static void CheckLoss<TTarget>(object loss, string parameterName)
        where TTarget : unmanaged
    {
        bool fits = typeof(TTarget) == typeof(int) ? loss is ILoss<IndexTensor> : typeof(TTarget) == typeof(float) && loss is ILoss<Tensor>;
        if (!fits)
        {
            string takes = loss is ILoss<IndexTensor> ? "class ids (an IBatchSource<_, int>)" : "values (an IBatchSource<_, float>)";
            throw new ArgumentException($"{loss.GetType().Name} takes {takes}, but the batch source's targets are {typeof(TTarget).Name}.", parameterName);
        }
    }

    /// <summary>The loss of <paramref name="prediction"/> against <paramref name="target"/>; the loss was checked by <see cref="CheckLoss"/>.</summary>
    public static double LossForward<TTarget>(object loss, Tensor prediction, DeviceTensor<TTarget> target)
        where TTarget : unmanaged
        => target switch
        {
            IndexTensor ids => ((ILoss<IndexTensor>)loss).Forward(prediction, ids),
            Tensor values => ((ILoss<Tensor>)loss).Forward(prediction, values),
            _ => throw new NotSupportedException(target.GetType().Name),
        };

    /// <summary>
    /// The targets the last <see cref="LossForward"/> averaged over, of its <paramref name="targetElements"/>: the class
    /// ids other than the <see cref="ClassIdLoss.IgnoreIndex"/> of a <see cref="ClassIdLoss"/> (<see cref="CrossEntropyLoss"/>,
    /// <see cref="NllLoss"/>), every element (value) for any other loss.
    /// </summary>
    public static int TargetCount(object loss, int targetElements)
        => loss is ClassIdLoss classIds ? classIds.CountedRows : targetElements;

    /// <summary>
    /// Σ loss over the <paramref name="targets"/> targets of a batch whose loss came to <paramref name="value"/>: the
    /// value itself for a library loss (<see cref="MseLoss"/>, <see cref="ClassIdLoss"/>, <see cref="L1Loss"/>, ...) with
    /// <see cref="Reduction.Sum"/>, value × targets for one that averages (the default, and what a loss of the caller's
    /// own is taken to do).
    /// </summary>
    public static double LossSum(object loss, double value, int targets)
        => loss is IReducedLoss { Reduction: Reduction.Sum } ? value : value * targets;

    /// <summary>The gradient that starts the model's backward pass.</summary>
    public static Tensor LossBackward(object loss)
        => loss switch
        {
            ILoss<IndexTensor> l => l.Backward(),
            ILoss<Tensor> l => l.Backward(),
            _ => throw new NotSupportedException(loss.GetType().Name),
        };
}
