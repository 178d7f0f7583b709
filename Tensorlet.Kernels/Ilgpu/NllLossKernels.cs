using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// nn.NLLLoss's rows in ILGPU, one warp per row as <see cref="SoftmaxKernels"/> (whose header says why): lanes stride
/// over the row zeroing its gradient, and the lane that holds the target writes the loss and −gradScale there.
/// Launch with <see cref="KernelConfig"/>: a group of whole warps, and ⌈N / warps-per-group⌉ groups.
/// </summary>
internal static class NllLossKernels
{
    /// <summary>
    /// losses[r] = −input[r, t] and dInput[r] = −onehot(t)·gradScale; dInput may alias input. A target outside
    /// [0, classes) cannot be reported from a kernel (Ops.NllLoss rejects one before it queues this), and must not be
    /// used as an index: that row's loss and its whole gradient row are written as NaN. A row whose target is
    /// ignoreIndex gets a loss of 0 and a zero gradient, written whatever the row holds; the host passes int.MinValue
    /// when no target is ignored, a value its range check has already refused.
    /// </summary>
    public static void Rows(ArrayView<float> input, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> dInput, int rows, int classes, float gradScale, int ignoreIndex)
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

        // Lane k reads and writes only the elements k, k + warpSize, ...: the lane that holds the target reads its
        // entry before it writes that column, and no other lane touches it, so dInput may alias input.
        int counted = ignored ? -1 : target;
        float fill = valid ? 0f : float.NaN;
        for (int k = lane; k < classes; k += warpSize)
        {
            if (k == counted)
            {
                losses[row] = -input[start + k];
            }

            dInput[start + k] = k == counted ? -gradScale : fill;
        }

        if ((ignored || !valid) && lane == 0)
        {
            losses[row] = ignored ? 0f : float.NaN;
        }
    }
}
