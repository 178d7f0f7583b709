namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>How an ILGPU accelerator runs an LSTM layer's recurrence; <see cref="RecurrenceRunner"/> runs each.</summary>
internal enum RecurrenceVariant
{
    /// <summary>
    /// What the library runs (the default): per time step a GEMM launch and a cell launch, forward and backward, through
    /// the library's tiled GEMM and cell kernels.
    /// </summary>
    StepByStep,

    /// <summary>
    /// <see cref="FusedStepsRecurrence"/>: forward, one launch per time step (the recurrent GEMM and the cell fused);
    /// backward, a split-k GEMM and one launch that sums its slices into dh and runs the cell backward.
    /// </summary>
    FusedSteps,

    /// <summary>
    /// <see cref="FusedSteps"/> with the forward step's groups on 32 batch rows instead of 64 on a GPU
    /// (<see cref="GemmTileGpuHalfRows"/>): at batch 100 and H = 512, 128 groups instead of 64 for
    /// 132 multiprocessors. The same as FusedSteps on the CPU accelerator's small tile.
    /// </summary>
    FusedStepsHalfRows,
}
