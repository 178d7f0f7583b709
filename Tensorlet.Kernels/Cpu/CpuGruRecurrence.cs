using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrent half of one GRU layer over all T steps, on the CPU, as <see cref="CpuLstmRecurrence"/> does it for the
/// LSTM: a gang of threads splits the hidden units once for the whole sequence; member p owns units [j0, j1), computes
/// the three gate columns (r, z, n) of those units of h_{t−1}·W_hhᵀ from its own slivers of the packed weight, then runs
/// the fused cell (<see cref="CpuGruCell"/>) for them. Backward, member p adds its columns of dgh_{t+1}·W_hh into dh_t and
/// runs the backward cell for its units, whose direct carry z·dh stays with it. The members meet once per step.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same cell code as on the step-by-step
/// path (<see cref="CpuGemm"/> with the same packed B, then <see cref="CpuGruCell"/>): the results are bit-identical to
/// it, for any thread count.
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
        float* gi, float* gh, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width = CpuVectorWidth.Vector512)
    {
        CpuLstmRecurrence.CheckPacked(weightHhT, hiddenSize, 3 * hiddenSize, 3, nameof(weightHhT));
        var gang = new ForwardGang(gi, gh, hidden, h0, hasInitialHidden, weightHhT, steps, batch, hiddenSize, width);
        CpuThreadTeam.RunGang(CpuLstmRecurrence.Members(hiddenSize, threads, weightHhT.Geometry.Nr), ref gang);
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
        float* gates, float* gh, float* hidden, float* h0, float* dH, float* dhCarry, float* dgi, float* dgh, float* dBiasIh, float* dBiasHh, PackedMatrix weightHh, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width = CpuVectorWidth.Vector512)
    {
        CpuLstmRecurrence.CheckPacked(weightHh, 3 * hiddenSize, hiddenSize, 1, nameof(weightHh));
        new Span<float>(dBiasIh, 3 * hiddenSize).Clear();
        new Span<float>(dBiasHh, 3 * hiddenSize).Clear();
        var gang = new BackwardGang(gates, gh, hidden, h0, dH, dhCarry, dgi, dgh, dBiasIh, dBiasHh, weightHh, steps, batch, hiddenSize, width);
        CpuThreadTeam.RunGang(CpuLstmRecurrence.Members(hiddenSize, threads, weightHh.Geometry.Nr), ref gang);
    }

    /// <summary>The forward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps (<see cref="Steps"/>).</summary>
    internal readonly struct ForwardGang(
        float* gi, float* gh, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, CpuVectorWidth width) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var (j0, j1) = CpuLstmRecurrence.Units(member, group.Members, hiddenSize, weightHhT.Geometry.Nr);
            int wide = 3 * hiddenSize;
            using var packedA = CpuLstmRecurrence.RentPackedHidden(weightHhT, batch, hiddenSize);
            float* aAligned = packedA.Pointer;
            for (int t = t0; t < t1; t++)
            {
                float* giT = gi + ((long)t * batch * wide);
                float* ghT = gh + ((long)t * batch * wide);
                float* hPrev = t > 0 ? hidden + ((long)(t - 1) * batch * hiddenSize) : h0;
                float* hT = hidden + ((long)t * batch * hiddenSize);
                if (t > 0 || hasInitialHidden)
                {
                    CpuLstmRecurrence.AddRecurrentProduct(weightHhT, hPrev, ghT, aAligned, batch, hiddenSize, 3, j0, j1);
                }

                for (int b = 0; b < batch; b++)
                {
                    long w = ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    CpuGruCell.ForwardUnits(giT + w, ghT + w, hPrev + n, giT + w, hT + n, j1 - j0, hiddenSize, width);
                }

                // Step t+1 multiplies all of h_t.
                group.Wait();
            }
        }
    }

    /// <summary>The backward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps (<see cref="Steps"/>).</summary>
    /// <remarks>dBiasIh and dBiasHh accumulate (<see cref="GateColumnSums"/>), so the caller clears them once before the first range of steps.</remarks>
    internal readonly struct BackwardGang(
        float* gates, float* gh, float* hidden, float* h0, float* dH, float* dhCarry, float* dgi, float* dgh, float* dBiasIh, float* dBiasHh, PackedMatrix weightHh, int steps, int batch, int hiddenSize, CpuVectorWidth width) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var (j0, j1) = CpuLstmRecurrence.Units(member, group.Members, hiddenSize, weightHh.Geometry.Nr);
            int units = j1 - j0;
            float[] stepSums = ArrayPool<float>.Shared.Rent(6 * units);
            try
            {
                StepsWithSums(j0, j1, group, t0, t1, stepSums.AsSpan(0, 3 * units), stepSums.AsSpan(3 * units, 3 * units));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(stepSums);
            }
        }

        private void StepsWithSums(int j0, int j1, SpinBarrier group, int t0, int t1, Span<float> giSums, Span<float> ghSums)
        {
            int wide = 3 * hiddenSize, units = j1 - j0;
            for (int t = t1 - 1; t >= t0; t--)
            {
                float* dHT = dH + ((long)t * batch * hiddenSize);
                if (t < steps - 1)
                {
                    // dh_t += dgh_{t+1}·W_hh, for this member's columns of dh (its slivers of the packed W_hh).
                    CpuLstmRecurrence.AddRecurrentGradient(weightHh, dgh + ((long)(t + 1) * batch * wide), dHT, batch, hiddenSize, j0, j1);
                }

                long offset = (long)t * batch * wide;
                float* hPrev = t > 0 ? hidden + ((long)(t - 1) * batch * hiddenSize) : h0;
                for (int b = 0; b < batch; b++)
                {
                    long w = offset + ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    CpuGruCell.BackwardUnits(gates + w, gh + w, hPrev + n, dHT + n, dhCarry + n, dgi + w, dgh + w, dhCarry + n, units, hiddenSize, width);
                    GateColumnSums.AddRow(dgi + w, giSums, b == 0, 3, units, hiddenSize);
                    GateColumnSums.AddRow(dgh + w, ghSums, b == 0, 3, units, hiddenSize);
                }

                GateColumnSums.AddTo(giSums, dBiasIh + j0, 3, units, hiddenSize);
                GateColumnSums.AddTo(ghSums, dBiasHh + j0, 3, units, hiddenSize);

                // Step t−1 multiplies all of dgh_t.
                group.Wait();
            }
        }
    }
}
