using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Row softmax kernels in ILGPU, one warp per row. With V = 32 a warp's lanes read a whole row in one coalesced
/// transaction, and N = 9900 rows give ~317k threads, enough to fill a GPU; one thread per row would read with a
/// stride of V floats (uncoalesced) and launch only N threads. Lanes stride over the row by the warp size, so any
/// V works, and the row maximum and sum are combined with xor-shuffles, which leave the result in every lane.
/// Each lane reads and writes only its own columns, so outputs may alias inputs. No shared memory and no group
/// barrier, so it also runs on ILGPU's CPU accelerator (warps of 4 there).
/// Launch with <see cref="KernelConfig"/>: a group of whole warps, and ⌈N / warps-per-group⌉ groups.
/// </summary>
internal static class SoftmaxKernels
{
    /// <summary>
    /// Fused softmax and cross-entropy: losses[r] = logsumexp(x[r]) − x[r, t] and dLogits[r] = (softmax(x[r]) − onehot(t))·gradScale.
    /// dLogits may alias logits. A target outside [0, classes) cannot be reported from a kernel (Ops.SoftmaxCrossEntropy
    /// rejects one before it queues this), and must not be used as an index: that row's loss and its whole gradient row
    /// are written as NaN, so the error is loud even when the kernel is called past that check. A row whose target is
    /// ignoreIndex gets a loss of 0 and the gradient softmax·0, as on the CPU (whose kernel says why); the host passes
    /// int.MinValue when no target is ignored, a value its range check has already refused.
    /// </summary>
    public static void CrossEntropy(
        ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> dLogits, int rows, int classes, float gradScale, int ignoreIndex)
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * classes;
        int target = targets[row];
        bool ignored = target == ignoreIndex;
        bool valid = ignored || (target >= 0 && target < classes);

        // Lane k reads and writes only the elements k, k + warpSize, ...: none reads what another lane writes, so
        // dLogits may alias logits. The lane that holds the target logit shares it through the warp sum (the others add 0).
        float max = float.NegativeInfinity;
        float targetLogit = 0f;
        for (int k = lane; k < classes; k += warpSize)
        {
            float x = logits[start + k];
            max = XMath.Max(max, x);
            targetLogit = k == target ? x : targetLogit;
        }

        max = WarpReduce.Max(max);
        targetLogit = WarpReduce.Sum(targetLogit);
        float sum = 0f;
        for (int k = lane; k < classes; k += warpSize)
        {
            float e = KernelMath.Exp(logits[start + k] - max);
            dLogits[start + k] = e;
            sum += e;
        }

        sum = WarpReduce.Sum(sum);
        float factor = ignored ? sum * 0f : valid ? gradScale / sum : float.NaN;
        for (int k = lane; k < classes; k += warpSize)
        {
            float d = dLogits[start + k] * factor;
            dLogits[start + k] = k == target && !ignored ? d - gradScale : d;
        }

        if (lane == 0)
        {
            losses[row] = ignored ? 0f : valid ? KernelMath.Log(sum) - (targetLogit - max) : float.NaN;
        }
    }

    /// <summary>probabilities[r] = softmax(logits[r] / temperature), using 1/temperature; probabilities may alias logits.</summary>
    public static void WithTemperature(ArrayView<float> logits, ArrayView<float> probabilities, int rows, int classes, float inverseTemperature)
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * classes;

        // max(x/T) = max(x)/T for T > 0.
        float max = RowMax(logits, start, classes);
        float sum = ExpShiftedStore(logits, probabilities, start, classes, max, inverseTemperature);
        float scale = 1f / sum;
        for (int k = lane; k < classes; k += warpSize)
        {
            probabilities[start + k] *= scale;
        }
    }

    /// <summary>
    /// y[r] = log_softmax(x[r]) = (x[r] − max) − log Σ e^(x[r] − max), in that order as on the CPU (whose kernel says
    /// why). y is another buffer than x: it holds the row's exponentials before their logarithm is subtracted.
    /// </summary>
    public static void LogSoftmax(ArrayView<float> x, ArrayView<float> y, int rows, int classes)
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * classes;
        float max = RowMax(x, start, classes);
        float logSum = KernelMath.Log(ExpShiftedStore(x, y, start, classes, max, 1f));
        for (int k = lane; k < classes; k += warpSize)
        {
            y[start + k] = (x[start + k] - max) - logSum;
        }
    }

    /// <summary>
    /// The backward of the softmax or the log-softmax (<typeparamref name="TKind"/>) from its output y:
    /// dx[r] = y[r] ⊙ (dy[r] − Σ dy[r]⊙y[r]), or dx[r] = dy[r] − e^y[r]·Σ dy[r]; dx may alias dy.
    /// </summary>
    public static void Backward<TKind>(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows, int classes)
        where TKind : struct, ISoftmaxKind
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * classes;
        bool log = default(TKind).IsLog;
        float sum = 0f;
        for (int k = lane; k < classes; k += warpSize)
        {
            sum += log ? dy[start + k] : dy[start + k] * y[start + k];
        }

        sum = WarpReduce.Sum(sum);
        for (int k = lane; k < classes; k += warpSize)
        {
            float yk = y[start + k];
            dx[start + k] = log ? dy[start + k] - (KernelMath.Exp(yk) * sum) : yk * (dy[start + k] - sum);
        }
    }

    /// <summary>The maximum of the row x[start..start + classes), in every lane of the warp.</summary>
    private static float RowMax(ArrayView<float> x, long start, int classes)
    {
        float max = float.NegativeInfinity;
        for (int k = Warp.LaneIdx; k < classes; k += Warp.WarpSize)
        {
            max = XMath.Max(max, x[start + k]);
        }

        return WarpReduce.Max(max);
    }

    /// <summary>y = e^((x − shift)·scale) over the row, each lane its own columns; returns Σ y, in every lane.</summary>
    private static float ExpShiftedStore(ArrayView<float> x, ArrayView<float> y, long start, int classes, float shift, float scale)
    {
        float sum = 0f;
        for (int k = Warp.LaneIdx; k < classes; k += Warp.WarpSize)
        {
            float e = KernelMath.Exp((x[start + k] - shift) * scale);
            y[start + k] = e;
            sum += e;
        }

        return WarpReduce.Sum(sum);
    }
}
