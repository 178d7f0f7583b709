namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// nn.NLLLoss's rows on the CPU: the loss of a row of log-probabilities is minus its target's entry, and its gradient
/// is zero but at the target; a row whose target is the ignored one gets a loss of 0 and a zero gradient, whatever it
/// holds (written, not multiplied by 0, so a −∞ there gives 0 as in PyTorch, not NaN). The zeroing is a vectorized clear of each row; rows are split across threads when there
/// are enough of them.
/// </summary>
internal static unsafe class CpuNllLoss
{
    // A clear and one write per row: below this many elements per thread, one thread is faster than fork/join.
    private const long MinElementsPerThread = CpuParallel.MinElementsPerChunk;

    /// <summary>
    /// losses[r] = −input[r, targets[r]] and dInput[r] = −onehot(targets[r])·gradScale. <paramref name="dInput"/> may be
    /// the same memory as <paramref name="input"/> (each row's target entry is read before the row is overwritten).
    /// </summary>
    /// <param name="input">[rows, classes]: log-probabilities.</param>
    /// <param name="targets">[rows]: class indices in [0, classes).</param>
    /// <param name="losses">[rows] out: the per-row loss.</param>
    /// <param name="dInput">[rows, classes] out: the scaled gradient of Σ losses with respect to the input.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">C, the classes per row.</param>
    /// <param name="gradScale">The factor on the gradient: 1/N gives the gradient of the mean loss.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="ignoreIndex">The target of rows that are skipped (loss 0, gradient 0); null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A target other than <paramref name="ignoreIndex"/> is outside [0, classes); nothing is written.</exception>
    public static void Rows(
        ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> losses, Span<float> dInput, int rows, int classes, float gradScale, int threads = 1, int? ignoreIndex = null)
    {
        ArgumentChecks.ThrowIfNegative(rows);
        ArgumentChecks.ThrowIfNegative(classes);
        long length = (long)rows * classes;
        CheckLength(input.Length, length, nameof(input));
        CheckLength(dInput.Length, length, nameof(dInput));
        CheckLength(targets.Length, rows, nameof(targets));
        CheckLength(losses.Length, rows, nameof(losses));

        // Checked up front, on one thread, so a bad target leaves the outputs untouched and the exception is not wrapped.
        IndexChecks.ThrowIfAnyTargetOutside(targets[..rows], classes, ignoreIndex);
        if (length == 0)
        {
            return;
        }

        fixed (float* pInput = input, pLosses = losses, pDInput = dInput)
        fixed (int* pTargets = targets)
        {
            CpuParallel.ForRowBlocks(rows, classes, MinElementsPerThread, threads, new NllRows(pInput, pTargets, pLosses, pDInput, classes, gradScale, ignoreIndex));
        }
    }

    private static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} holds {actual} elements but the NLL loss needs {required}.", name);
        }
    }

    private readonly struct NllRows(float* input, int* targets, float* losses, float* dInput, int classes, float gradScale, int? ignoreIndex) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                // The target's entry is read before the row is cleared, which may be the same memory.
                int target = targets[r];
                bool ignored = target == ignoreIndex;
                losses[r] = ignored ? 0f : -input[(r * classes) + target];
                float* dRow = dInput + (r * classes);
                new Span<float>(dRow, classes).Clear();
                if (!ignored)
                {
                    dRow[target] = -gradScale;
                }
            }
        }
    }
}
