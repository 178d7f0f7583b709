using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The fused kernels (LSTM and GRU cells forward and backward, softmax cross-entropy, temperature softmax, layer norm,
/// log-softmax and the softmax backwards, NLL loss) compiled and loaded once for one accelerator. The backend creates it
/// on first use; they launch on the default stream (stream kernels). The layer norm, log-softmax, softmax backward and
/// NLL kernels load on their own first use, so models without one never compile them.
/// </summary>
internal sealed class IlgpuFusedKernels
{
    // Four warps a group: 128 threads on CUDA (four rows per group); the CPU accelerator's limits may allow fewer.
    private const int WarpsPerGroupWanted = 4;

    // The row losses' ignore index when none is ignored: a target the ops' range check refuses before a kernel runs.
    private const int NoIgnoredTarget = int.MinValue;

    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> cellForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> cellBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> gruForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> gruBackward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, float, int> crossEntropy;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float> temperatureSoftmax;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>? layerNormForward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? layerNormInputGradient;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? logSoftmax;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? softmaxBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? logSoftmaxBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, float, int>? nllLoss;
    private readonly int warpsPerGroup;
    private readonly int groupSize;

    public IlgpuFusedKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        cellForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            LstmCellKernels.Forward);
        cellBackward = accelerator.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            LstmCellKernels.Backward);
        gruForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            GruCellKernels.Forward);
        gruBackward = accelerator.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            GruCellKernels.Backward);
        crossEntropy = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, float, int>(
            SoftmaxKernels.CrossEntropy);
        temperatureSoftmax = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float>(
            SoftmaxKernels.WithTemperature);
        warpsPerGroup = Math.Max(1, Math.Min(WarpsPerGroupWanted, accelerator.MaxNumThreadsPerGroup / accelerator.WarpSize));
        groupSize = warpsPerGroup * accelerator.WarpSize;
    }

    public Accelerator Accelerator { get; }

    public void LstmCellForward(ArrayView<float> preactivations, ArrayView<float> cPrev, ArrayView<float> gates, ArrayView<float> c, ArrayView<float> h, int batch, int hidden)
    {
        int cells = CellCount(batch, hidden);
        if (cells > 0)
        {
            cellForward(cells, preactivations, cPrev, gates, c, h, hidden);
        }
    }

    public void LstmCellBackward(
        ArrayView<float> gates,
        ArrayView<float> c,
        ArrayView<float> cPrev,
        ArrayView<float> dh,
        ArrayView<float> dcNext,
        ArrayView<float> dPreactivations,
        ArrayView<float> dcPrev,
        int batch,
        int hidden)
    {
        int cells = CellCount(batch, hidden);
        if (cells > 0)
        {
            cellBackward(cells, gates, c, cPrev, dh, dcNext, dPreactivations, dcPrev, hidden);
        }
    }

    public void GruCellForward(ArrayView<float> gi, ArrayView<float> gh, ArrayView<float> hPrev, ArrayView<float> gates, ArrayView<float> h, int batch, int hidden)
    {
        int cells = CellCount(batch, hidden);
        if (cells > 0)
        {
            gruForward(cells, gi, gh, hPrev, gates, h, hidden);
        }
    }

    public void GruCellBackward(
        ArrayView<float> gates,
        ArrayView<float> gh,
        ArrayView<float> hPrev,
        ArrayView<float> dh,
        ArrayView<float> dhNext,
        ArrayView<float> dgi,
        ArrayView<float> dgh,
        ArrayView<float> dhPrev,
        int batch,
        int hidden)
    {
        int cells = CellCount(batch, hidden);
        if (cells > 0)
        {
            gruBackward(cells, gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev, hidden);
        }
    }

    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> dLogits, int rows, int classes, float gradScale, int? ignoreIndex = null)
    {
        if (rows > 0)
        {
            crossEntropy(RowConfig(rows), logits, targets, losses, dLogits, rows, classes, gradScale, ignoreIndex ?? NoIgnoredTarget);
        }
    }

    public void SoftmaxWithTemperature(ArrayView<float> logits, ArrayView<float> probabilities, int rows, int classes, float temperature)
    {
        if (rows > 0 && classes > 0)
        {
            // An inverse that overflows is float.MaxValue, as on the CPU (CpuSoftmax.WithTemperature says why).
            temperatureSoftmax(RowConfig(rows), logits, probabilities, rows, classes, MathF.Min(1f / temperature, float.MaxValue));
        }
    }

    /// <summary>y = log_softmax(x) per row of [rows, classes].</summary>
    public void LogSoftmax(ArrayView<float> x, ArrayView<float> y, int rows, int classes)
    {
        if (rows > 0 && classes > 0)
        {
            logSoftmax ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.LogSoftmax);
            logSoftmax(RowConfig(rows), x, y, rows, classes);
        }
    }

    /// <summary>The softmax's dx from its output y and dy per row; dx may be dy.</summary>
    public void SoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows, int classes)
    {
        if (rows > 0 && classes > 0)
        {
            softmaxBackward ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Backward<SoftmaxKind>);
            softmaxBackward(RowConfig(rows), y, dy, dx, rows, classes);
        }
    }

    /// <summary>The log-softmax's dx from its output y and dy per row; dx may be dy.</summary>
    public void LogSoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows, int classes)
    {
        if (rows > 0 && classes > 0)
        {
            logSoftmaxBackward ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Backward<LogSoftmaxKind>);
            logSoftmaxBackward(RowConfig(rows), y, dy, dx, rows, classes);
        }
    }

    /// <summary>
    /// The NLL loss per row of log-probabilities [rows, classes] and its gradient, scaled by gradScale, rows whose
    /// target is ignoreIndex written as 0; dInput may be input.
    /// </summary>
    public void NllLoss(ArrayView<float> input, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> dInput, int rows, int classes, float gradScale, int? ignoreIndex = null)
    {
        if (rows > 0)
        {
            nllLoss ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, float, int>(NllLossKernels.Rows);
            nllLoss(RowConfig(rows), input, targets, losses, dInput, rows, classes, gradScale, ignoreIndex ?? NoIgnoredTarget);
        }
    }

    /// <summary>y = (x − mean)·rstd·weight + bias per row of [rows, columns], writing mean and rstd; an empty weight or bias view is none.</summary>
    public void LayerNormForward(
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd, int rows, int columns, float epsilon)
    {
        if (rows > 0)
        {
            layerNormForward ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(
                LayerNormKernels.Forward);
            layerNormForward(RowConfig(rows), x, weight, bias, y, mean, rstd, rows, columns, epsilon);
        }
    }

    /// <summary>The layer norm's dx per row from x, mean, rstd, weight (empty for none) and dy; dx may be dy.</summary>
    public void LayerNormInputGradient(
        ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int columns)
    {
        if (rows > 0)
        {
            layerNormInputGradient ??= Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(
                LayerNormKernels.InputGradient);
            layerNormInputGradient(RowConfig(rows), x, mean, rstd, weight, dy, dx, rows, columns);
        }
    }

    private static int CellCount(int batch, int hidden)
    {
        // The kernels index [B,4H] (the GRU's [B,3H] is smaller) with int: fine for any LSTM or GRU we train (100·4·512 ≈ 2e5).
        long wide = 4L * batch * hidden;
        return wide <= int.MaxValue
            ? batch * hidden
            : throw new ArgumentException($"A recurrent cell of batch {batch} and hidden size {hidden} is too large for the ILGPU kernels' int indexing.");
    }

    // One warp per row: whole warps per group, enough groups to cover every row.
    private KernelConfig RowConfig(int rows) => new((rows + warpsPerGroup - 1) / warpsPerGroup, groupSize);
}
