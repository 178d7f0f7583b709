using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrent half of one Elman RNN layer (nn.RNN) over all T steps, on the CPU, as <see cref="CpuLstmRecurrence"/>
/// does it for the LSTM, with one gate: a gang of threads splits the layer once for the whole sequence, by units or by
/// batch rows. Split by units, member p owns units [j0, j1), adds its columns of h_{t−1}·W_hhᵀ to the step's
/// preactivations from its own slivers of the packed weight and then activates them into h_t; backward, it adds its
/// columns of d(pre)_{t+1}·W_hh into dh_t and writes d(pre)_t = dh_t·act'(h_t) over pre_t; the members meet once per
/// step. Split by rows, member p does all of that for its rows and never meets the others.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same activation code as on the
/// step-by-step path (<see cref="CpuGemm"/> with the same packed B, then <see cref="CpuActivation"/> on the calling
/// thread): the results are bit-identical to it, for any thread count and either split; the bias gradient is summed in
/// an order that neither changes (<see cref="GateColumnSums"/>).
/// </para>
/// </summary>
internal static unsafe class CpuRnnRecurrence
{
    /// <summary>
    /// Runs the forward recurrence. <paramref name="pre"/> [T·B, H] holds each step's x·W_ihᵀ + b_ih + b_hh, receives
    /// h_{t−1}·W_hhᵀ as well and keeps the preactivations; <paramref name="hidden"/> [T·B, H] receives
    /// h_t = <paramref name="activation"/>(pre_t) (tanh or relu). The recurrent term is skipped at t = 0 unless
    /// <paramref name="hasInitialHidden"/>. <paramref name="weightHhT"/> is op(B) = W_hhᵀ [H, H], packed by
    /// <see cref="CpuGemm.PackB"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is neither tanh nor relu, or the weight is packed otherwise.</exception>
    public static void Forward(
        float* pre, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, Activation activation, int threads, CpuVectorWidth width)
    {
        CheckActivation(activation);
        CpuLstmRecurrence.CheckPacked(weightHhT, hiddenSize, hiddenSize, 1, nameof(weightHhT));
        var (byRows, members) = CpuLstmRecurrence.GangSplit(weightHhT, batch, hiddenSize, threads);
        var gang = new ForwardGang(pre, hidden, h0, hasInitialHidden, weightHhT, steps, batch, hiddenSize, activation, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
    }

    /// <summary>
    /// Runs the backward recurrence from the saved <paramref name="hidden"/> [T·B, H]: <paramref name="dH"/> [T·B, H]
    /// holds dL/dh_t from above and receives the recurrent terms as well; <paramref name="dPre"/> [T·B, H] receives
    /// dL/d(pre)_t, and <paramref name="dBias"/> [H] its column sums (the gradient of each bias), summed as each step's
    /// rows are written. act' is read from h (tanh 1 − h², relu h &gt; 0), so dPre may be the saved preactivations.
    /// <paramref name="weightHh"/> is op(B) = W_hh [H, H], packed by <see cref="CpuGemm.PackB"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is neither tanh nor relu, or the weight is packed otherwise.</exception>
    public static void Backward(
        float* hidden, float* dH, float* dPre, float* dBias, PackedMatrix weightHh, int steps, int batch, int hiddenSize, Activation activation, int threads, CpuVectorWidth width)
    {
        CheckActivation(activation);
        CpuLstmRecurrence.CheckPacked(weightHh, hiddenSize, hiddenSize, 1, nameof(weightHh));
        using var totals = GateColumnSums.RentTotals(batch, hiddenSize);
        var (byRows, members) = CpuLstmRecurrence.GangSplit(weightHh, batch, hiddenSize, threads);
        var gang = new BackwardGang(hidden, dH, dPre, totals.Pointer, weightHh, steps, batch, hiddenSize, activation, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
        GateColumnSums.Fold(totals.Pointer, batch, hiddenSize, dBias, width);
    }

    /// <summary>Throws unless <paramref name="activation"/> is one nn.RNN has: tanh or relu.</summary>
    internal static void CheckActivation(Activation activation)
    {
        if (activation is not (Activation.Tanh or Activation.Relu))
        {
            throw new ArgumentException($"The RNN's activation must be Tanh or Relu; got {activation}.", nameof(activation));
        }
    }

    /// <summary>
    /// The forward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps (<see cref="Steps"/>);
    /// split by hidden units, or by batch rows when <paramref name="byRows"/> (<see cref="CpuLstmRecurrence.SplitsByRows"/>).
    /// </summary>
    internal readonly struct ForwardGang(
        float* pre, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, Activation activation, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var (b0, b1, j0, j1) = CpuLstmRecurrence.Share(member, group.Members, byRows, batch, hiddenSize, weightHhT.Geometry.Nr);
            int rows = b1 - b0, units = j1 - j0;
            using var packedA = CpuLstmRecurrence.RentPackedHidden(weightHhT, rows, hiddenSize);
            float* aAligned = packedA.Pointer;
            for (int t = t0; t < t1 && rows > 0; t++)
            {
                long offset = (long)t * batch * hiddenSize;
                float* hPrev = t > 0 ? hidden + offset - ((long)batch * hiddenSize) : h0;
                if (t > 0 || hasInitialHidden)
                {
                    CpuLstmRecurrence.AddRecurrentProduct(weightHhT, hPrev + ((long)b0 * hiddenSize), pre + offset + ((long)b0 * hiddenSize), aAligned, rows, hiddenSize, 1, j0, j1);
                }

                for (int b = b0; b < b1; b++)
                {
                    long n = offset + ((long)b * hiddenSize) + j0;
                    CpuActivation.Forward(activation, new ReadOnlySpan<float>(pre + n, units), new Span<float>(hidden + n, units), 1, width);
                }

                // Step t+1 multiplies all of h_t: the members that share the units wait for each other.
                if (!byRows)
                {
                    group.Wait();
                }
            }
        }
    }

    /// <summary>
    /// The backward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps (<see cref="Steps"/>);
    /// split by hidden units, or by batch rows when <paramref name="byRows"/>.
    /// </summary>
    /// <remarks>
    /// The bias gradient accumulates into the panels' totals (<see cref="GateColumnSums"/>), which the caller zeroes once
    /// before the first range of steps and folds into dBias after the last.
    /// </remarks>
    internal readonly struct BackwardGang(
        float* hidden, float* dH, float* dPre, float* biasTotals, PackedMatrix weightHh, int steps, int batch, int hiddenSize, Activation activation, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var share = CpuLstmRecurrence.Share(member, group.Members, byRows, batch, hiddenSize, weightHh.Geometry.Nr);
            int units = share.J1 - share.J0;
            float[] panelSums = ArrayPool<float>.Shared.Rent(units);
            try
            {
                StepsWithSums(share, group, t0, t1, panelSums.AsSpan(0, units));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(panelSums);
            }
        }

        private void StepsWithSums((int B0, int B1, int J0, int J1) share, SpinBarrier group, int t0, int t1, Span<float> panelSums)
        {
            var (b0, b1, j0, j1) = share;
            int units = j1 - j0, rows = b1 - b0;
            for (int t = t1 - 1; t >= t0 && rows > 0; t--)
            {
                long offset = (long)t * batch * hiddenSize;
                if (t < steps - 1)
                {
                    // dh_t += d(pre)_{t+1}·W_hh, for this member's rows and columns of dh (its slivers of the packed W_hh).
                    long next = offset + ((long)batch * hiddenSize) + ((long)b0 * hiddenSize);
                    CpuLstmRecurrence.AddRecurrentGradient(weightHh, dPre + next, dH + offset + ((long)b0 * hiddenSize), rows, hiddenSize, j0, j1);
                }

                for (int b = b0; b < b1; b++)
                {
                    long n = offset + ((long)b * hiddenSize) + j0;
                    var h = new ReadOnlySpan<float>(hidden + n, units);
                    CpuActivation.Backward(activation, h, h, new ReadOnlySpan<float>(dH + n, units), new Span<float>(dPre + n, units), 1, width);
                    GateColumnSums.AddBatchRow(dPre + n, panelSums, biasTotals, b, batch, 1, units, hiddenSize, j0, width);
                }

                // Step t−1 multiplies all of d(pre)_t: the members that share the units wait for each other.
                if (!byRows)
                {
                    group.Wait();
                }
            }
        }
    }
}
