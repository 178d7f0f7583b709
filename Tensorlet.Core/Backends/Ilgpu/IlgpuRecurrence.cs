namespace Tensorlet.Backends.Ilgpu;

/// <summary>How an ILGPU device runs the LSTM's recurrence; benchmarks and tests pick one through <see cref="IlgpuBackend.Recurrence"/>.</summary>
internal enum IlgpuRecurrence
{
    /// <summary>
    /// The layer's own loop (the default): per time step a GEMM launch and a cell launch, forward and backward, through
    /// <see cref="IlgpuBackend.Gemm"/> and the cell kernels.
    /// </summary>
    StepByStep,

    /// <summary>
    /// <see cref="IlgpuLstmRecurrence"/>: forward, one launch per time step (the recurrent GEMM and the cell fused);
    /// backward, a split-k GEMM and one launch that sums its slices into dh and runs the cell backward.
    /// </summary>
    FusedSteps,

    /// <summary>
    /// <see cref="FusedSteps"/> with the forward step's groups on 32 batch rows instead of 64 on a GPU
    /// (<see cref="Tensorlet.Kernels.Ilgpu.GemmTileGpuHalfRows"/>): at batch 100 and H = 512, 128 groups instead of 64 for
    /// 132 multiprocessors. The same as FusedSteps on the CPU accelerator's small tile.
    /// </summary>
    FusedStepsHalfRows,
}
