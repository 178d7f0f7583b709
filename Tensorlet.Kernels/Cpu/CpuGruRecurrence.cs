using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrent half of one GRU layer over all T steps, on the CPU, as <see cref="CpuLstmRecurrence"/> does it for the
/// LSTM: a gang of threads splits the layer once for the whole sequence, by units or by batch rows. Split by units,
/// member p owns units [j0, j1), computes the three gate columns (r, z, n) of those units of h_{t−1}·W_hhᵀ from its own
/// slivers of the packed weight, then runs the fused cell (<see cref="CpuGruCell"/>) for them; backward, it adds its
/// columns of dgh_{t+1}·W_hh into dh_t and runs the backward cell for its units, whose direct carry z·dh stays with it;
/// the members meet once per step. Split by rows, member p does all of that for its rows and never meets the others.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same cell code as on the step-by-step
/// path (<see cref="CpuGemm"/> with the same packed B, then <see cref="CpuGruCell"/>): the results are bit-identical to
/// it, for any thread count and either split; the bias gradients are summed in an order that neither changes.
/// </para>
/// </summary>
internal static unsafe class CpuGruRecurrence
{
    /// <summary>
    /// Runs the forward recurrence. <paramref name="gi"/> [T·B, 3H] holds each step's x·W_ihᵀ + b_ih and receives the
    /// gates r, z, n; <paramref name="gh"/> [T·B, 3H] holds b_hh in every row and receives h_{t−1}·W_hhᵀ + b_hh;
    /// <paramref name="hidden"/> [T·B, H] receives h_t. <paramref name="h0"/> must be zero unless
    /// <paramref name="hasInitialHidden"/>, which alone decides whether step 0 multiplies it.
    /// <paramref name="weightHhT"/> is op(B) = W_hhᵀ [H, 3H], packed gate by gate by <see cref="CpuGemm.PackB"/> (groups: 3).
    /// </summary>
    public static void Forward(
        float* gi, float* gh, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width)
    {
        CpuLstmRecurrence.CheckPacked(weightHhT, hiddenSize, 3 * hiddenSize, 3, nameof(weightHhT));
        var (byRows, members) = CpuLstmRecurrence.GangSplit(weightHhT, batch, hiddenSize, threads);
        var gang = new ForwardGang(gi, gh, hidden, h0, hasInitialHidden, weightHhT, steps, batch, hiddenSize, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
    }

    /// <summary>
    /// Runs the backward recurrence from the saved <paramref name="gates"/>, <paramref name="gh"/>,
    /// <paramref name="hidden"/> and <paramref name="h0"/>: <paramref name="dH"/> [T·B, H] holds dL/dh_t from above and
    /// receives the recurrent terms as well; <paramref name="dhCarry"/> [B, H] must be zero and ends as the direct part of
    /// dL/dh_0; <paramref name="dgi"/> and <paramref name="dgh"/> [T·B, 3H] receive the projections' gradients, and
    /// <paramref name="dBiasIh"/> and <paramref name="dBiasHh"/> [3H] their column sums (the gradients of b_ih and b_hh).
    /// <paramref name="weightHh"/> is op(B) = W_hh [3H, H], packed by <see cref="CpuGemm.PackB"/>.
    /// </summary>
    public static void Backward(
        float* gates, float* gh, float* hidden, float* h0, float* dH, float* dhCarry, float* dgi, float* dgh, float* dBiasIh, float* dBiasHh, PackedMatrix weightHh, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width)
    {
        CpuLstmRecurrence.CheckPacked(weightHh, 3 * hiddenSize, hiddenSize, 1, nameof(weightHh));
        int wide = 3 * hiddenSize;
        using var giTotals = GateColumnSums.RentTotals(batch, wide);
        using var ghTotals = GateColumnSums.RentTotals(batch, wide);
        var (byRows, members) = CpuLstmRecurrence.GangSplit(weightHh, batch, hiddenSize, threads);
        var gang = new BackwardGang(gates, gh, hidden, h0, dH, dhCarry, dgi, dgh, giTotals.Pointer, ghTotals.Pointer, weightHh, steps, batch, hiddenSize, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
        GateColumnSums.Fold(giTotals.Pointer, batch, wide, dBiasIh, width);
        GateColumnSums.Fold(ghTotals.Pointer, batch, wide, dBiasHh, width);
    }

    /// <summary>
    /// The forward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps (<see cref="Steps"/>);
    /// split by hidden units, or by batch rows when <paramref name="byRows"/> (<see cref="CpuLstmRecurrence.SplitsByRows"/>).
    /// </summary>
    internal readonly struct ForwardGang(
        float* gi, float* gh, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var (b0, b1, j0, j1) = CpuLstmRecurrence.Share(member, group.Members, byRows, batch, hiddenSize, weightHhT.Geometry.Nr);
            int wide = 3 * hiddenSize, rows = b1 - b0;
            using var packedA = CpuLstmRecurrence.RentPackedHidden(weightHhT, rows, hiddenSize);
            float* aAligned = packedA.Pointer;
            for (int t = t0; t < t1 && rows > 0; t++)
            {
                float* giT = gi + ((long)t * batch * wide);
                float* ghT = gh + ((long)t * batch * wide);
                float* hPrev = t > 0 ? hidden + ((long)(t - 1) * batch * hiddenSize) : h0;
                float* hT = hidden + ((long)t * batch * hiddenSize);
                if (t > 0 || hasInitialHidden)
                {
                    CpuLstmRecurrence.AddRecurrentProduct(weightHhT, hPrev + ((long)b0 * hiddenSize), ghT + ((long)b0 * wide), aAligned, rows, hiddenSize, 3, j0, j1);
                }

                for (int b = b0; b < b1; b++)
                {
                    long w = ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    CpuGruCell.ForwardUnits(giT + w, ghT + w, hPrev + n, giT + w, hT + n, j1 - j0, hiddenSize, width);
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
    /// The bias gradients accumulate into the panels' totals (<see cref="GateColumnSums"/>), which the caller zeroes once
    /// before the first range of steps and folds into dBiasIh and dBiasHh after the last.
    /// </remarks>
    internal readonly struct BackwardGang(
        float* gates, float* gh, float* hidden, float* h0, float* dH, float* dhCarry, float* dgi, float* dgh, float* giTotals, float* ghTotals, PackedMatrix weightHh, int steps, int batch, int hiddenSize, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var share = CpuLstmRecurrence.Share(member, group.Members, byRows, batch, hiddenSize, weightHh.Geometry.Nr);
            int units = share.J1 - share.J0;
            float[] panelSums = ArrayPool<float>.Shared.Rent(6 * units);
            try
            {
                StepsWithSums(share, group, t0, t1, panelSums.AsSpan(0, 3 * units), panelSums.AsSpan(3 * units, 3 * units));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(panelSums);
            }
        }

        private void StepsWithSums((int B0, int B1, int J0, int J1) share, SpinBarrier group, int t0, int t1, Span<float> giSums, Span<float> ghSums)
        {
            var (b0, b1, j0, j1) = share;
            int wide = 3 * hiddenSize, units = j1 - j0, rows = b1 - b0;
            for (int t = t1 - 1; t >= t0 && rows > 0; t--)
            {
                float* dHT = dH + ((long)t * batch * hiddenSize);
                if (t < steps - 1)
                {
                    // dh_t += dgh_{t+1}·W_hh, for this member's rows and columns of dh (its slivers of the packed W_hh).
                    CpuLstmRecurrence.AddRecurrentGradient(weightHh, dgh + ((long)(t + 1) * batch * wide) + ((long)b0 * wide), dHT + ((long)b0 * hiddenSize), rows, hiddenSize, j0, j1);
                }

                long offset = (long)t * batch * wide;
                float* hPrev = t > 0 ? hidden + ((long)(t - 1) * batch * hiddenSize) : h0;
                for (int b = b0; b < b1; b++)
                {
                    long w = offset + ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    CpuGruCell.BackwardUnits(gates + w, gh + w, hPrev + n, dHT + n, dhCarry + n, dgi + w, dgh + w, dhCarry + n, units, hiddenSize, width);
                    GateColumnSums.AddBatchRow(dgi + w, giSums, giTotals, b, batch, 3, units, hiddenSize, j0, width);
                    GateColumnSums.AddBatchRow(dgh + w, ghSums, ghTotals, b, batch, 3, units, hiddenSize, j0, width);
                }

                // Step t−1 multiplies all of dgh_t: the members that share the units wait for each other.
                if (!byRows)
                {
                    group.Wait();
                }
            }
        }
    }
}
