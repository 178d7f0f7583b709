namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// How the CPU runs the recurrences of stacked LSTM, GRU and RNN layers (<see cref="CpuKernelPlan.Recurrence"/>).
/// </summary>
internal enum CpuRecurrenceSchedule
{
    /// <summary>
    /// One layer after the other; within a layer the threads split each step's hidden units and meet once per step
    /// (<see cref="CpuLstmRecurrence"/>), and the next layer's input projection is one GEMM over all steps.
    /// </summary>
    Split,

    /// <summary>
    /// Two stacked layers at once (<see cref="CpuRecurrenceWavefront"/>): one thread runs the lower layer's steps, another the
    /// upper layer's a few steps behind, and the upper layer's input projection is done per chunk of steps by whichever
    /// thread is free. No barrier per step; each thread runs a whole step's GEMM. The default.
    /// </summary>
    Wavefront,
}
