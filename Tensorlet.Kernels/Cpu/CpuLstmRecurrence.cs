using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrent half of one LSTM layer over all T steps, on the CPU: per step t, h_{t−1}·W_hhᵀ added into the
/// step's preactivations and then the fused cell (forward); d(pre)_{t+1}·W_hh added into dh_t and then the backward
/// cell (backward). The step-by-step path makes a parallel GEMM and a parallel cell per step, whose threads each
/// touch every hidden unit; here a gang of threads splits the layer once for the whole sequence. Split by units,
/// member p owns units [j0, j1), computes the four gate columns of those units from its own slivers of the packed
/// weight (which stay in its core's cache across steps) and then runs the cell for them, reading gates it just wrote;
/// the members meet once per step, because step t+1 needs all of h_t (or all of d(pre)_t). Split by batch rows
/// (<see cref="SplitsByRows"/>), member p owns rows [b0, b1) and all units, and never meets the others.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same cell code as on the
/// step-by-step path (<see cref="CpuGemm"/> with the same packed B, then <see cref="CpuLstmCell"/>): the results are
/// bit-identical to it, for any thread count and either split; the bias gradient is summed in an order that neither
/// changes (<see cref="GateColumnSums"/>).
/// </para>
/// </summary>
internal static unsafe class CpuLstmRecurrence
{
    /// <summary>
    /// The most gang members a layer of <paramref name="hidden"/> units can use: each owns whole B slivers (NR columns) of
    /// every gate, the last member's last one possibly a part of one, so there are at most as many as slivers per gate.
    /// </summary>
    public static int Members(int hidden, int threads, int nr) =>
        Math.Clamp(Math.Min(threads, CpuThreadTeam.MaxThreads), 1, Math.Max(1, (hidden + nr - 1) / nr));

    /// <summary>
    /// Runs the forward recurrence. <paramref name="gates"/> [T·B, 4H] holds each step's input preactivations
    /// (x·W_ihᵀ + biases) and receives the activated gates; <paramref name="cells"/> and <paramref name="hidden"/>
    /// [T·B, H] receive c_t and h_t. The recurrent term is skipped at t = 0 unless <paramref name="hasInitialHidden"/>.
    /// <paramref name="weightHhT"/> is op(B) = W_hhᵀ [H, 4H], packed gate by gate by <see cref="CpuGemm.PackB"/> (groups: 4).
    /// </summary>
    public static void Forward(
        float* gates, float* cells, float* hidden, float* h0, float* c0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width)
    {
        CheckPacked(weightHhT, hiddenSize, 4 * hiddenSize, 4, nameof(weightHhT));
        var (byRows, members) = GangSplit(weightHhT, batch, hiddenSize, threads);
        var gang = new ForwardGang(gates, cells, hidden, h0, c0, hasInitialHidden, weightHhT, steps, batch, hiddenSize, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
    }

    /// <summary>
    /// Runs the backward recurrence from the saved <paramref name="gates"/>, <paramref name="cells"/> and
    /// <paramref name="c0"/>: <paramref name="dH"/> [T·B, H] holds dL/dh_t from above and receives the recurrent
    /// terms as well; <paramref name="dc"/> [B, H] must be zero and ends as dL/dc_0's carry; <paramref name="dPre"/>
    /// [T·B, 4H] receives dL/d(pre)_t, and <paramref name="dBias"/> [4H] its column sums (the gradient of each bias), summed
    /// as each step's rows are written. <paramref name="weightHh"/> is op(B) = W_hh [4H, H], packed by <see cref="CpuGemm.PackB"/>.
    /// </summary>
    public static void Backward(
        float* gates, float* cells, float* c0, float* dH, float* dc, float* dPre, float* dBias, PackedMatrix weightHh, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width)
    {
        CheckPacked(weightHh, 4 * hiddenSize, hiddenSize, 1, nameof(weightHh));
        using var totals = GateColumnSums.RentTotals(batch, 4 * hiddenSize);
        var (byRows, members) = GangSplit(weightHh, batch, hiddenSize, threads);
        var gang = new BackwardGang(gates, cells, c0, dH, dc, dPre, totals.Pointer, weightHh, steps, batch, hiddenSize, width, byRows);
        CpuThreadTeam.RunGang(members, ref gang);
        GateColumnSums.Fold(totals.Pointer, batch, 4 * hiddenSize, dBias, width);
    }

    /// <summary>
    /// Whether a gang that runs one layer alone splits it by batch rows rather than by hidden units. Rows never meet, so
    /// each member runs its panels of rows through every step with no barrier between steps, where members that share
    /// the units meet after each one; but each member then reads all of the packed recurrent weight every step, not its
    /// share. While that weight is a few L2s at most the barrier costs more. On the AMD EPYC (1 MiB L2, 2 threads),
    /// alternated with the units' split, a one-layer training step at batch 100 ran 1.04–1.06× faster at LSTM 1×256,
    /// 1.12× at 1×128 and 1.06–1.08× at GRU 1×256; 1.24–1.25× at 1×256 while the host was slowing the threads, which
    /// then waited about 100 µs at every step's barrier; 1.01× at 1×512 (4 MiB of packed weight). In a trial at 1×1024
    /// (16 MiB) it ran 1–2% slower, so a larger weight keeps the units' split. Needs a panel of rows
    /// (<see cref="GateColumnSums.PanelRows"/>) per member: a batch of 8 split by rows would leave a thread idle.
    /// </summary>
    internal static bool SplitsByRows(PackedMatrix weight, int batch, int threads) =>
        Math.Min(threads, CpuThreadTeam.MaxThreads) >= 2 && GateColumnSums.Panels(batch) >= 2 && weight.Length * sizeof(float) <= 4L * weight.Geometry.L2Bytes;

    /// <summary>
    /// How a gang runs one layer alone on <paramref name="threads"/>: split by rows (<see cref="SplitsByRows"/>), with a
    /// panel of rows per member at least, or by units (<see cref="Members"/>).
    /// </summary>
    internal static (bool ByRows, int Members) GangSplit(PackedMatrix weight, int batch, int hiddenSize, int threads)
    {
        bool byRows = SplitsByRows(weight, batch, threads);
        int members = byRows
            ? Math.Clamp(Math.Min(threads, CpuThreadTeam.MaxThreads), 1, GateColumnSums.Panels(batch))
            : Members(hiddenSize, threads, weight.Geometry.Nr);
        return (byRows, members);
    }

    /// <summary>Member p's batch rows when a gang splits by rows: a share of the panels as equal as whole panels allow.</summary>
    internal static (int Start, int End) Rows(int member, int members, int batch)
    {
        int panels = GateColumnSums.Panels(batch), rows = GateColumnSums.PanelRows;
        return (Math.Min(batch, panels * member / members * rows), Math.Min(batch, panels * (member + 1) / members * rows));
    }

    /// <summary>
    /// Member p's rows [b0, b1) and units [j0, j1): all units of its rows when the gang splits by rows, else all rows of its units.
    /// </summary>
    internal static (int B0, int B1, int J0, int J1) Share(int member, int members, bool byRows, int batch, int hiddenSize, int nr)
    {
        if (byRows)
        {
            var (b0, b1) = Rows(member, members, batch);
            return (b0, b1, 0, hiddenSize);
        }

        var (j0, j1) = Units(member, members, hiddenSize, nr);
        return (0, batch, j0, j1);
    }

    /// <summary>Throws unless <paramref name="packed"/> is op(B) [k, n] packed in <paramref name="groups"/> column groups (the gates, for W_hhᵀ).</summary>
    internal static void CheckPacked(PackedMatrix packed, int k, int n, int groups, string name)
    {
        ArgumentNullException.ThrowIfNull(packed, name);
        if (packed.K != k || packed.N != n || packed.Groups != PackedMatrix.LayoutGroups(n, groups, packed.Geometry.Nr))
        {
            throw new ArgumentException($"{name} is packed as [{packed.K}, {packed.N}] in {packed.Groups} column group(s); the recurrence needs [{k}, {n}] in {groups} (CpuGemm.PackB's groups).", name);
        }
    }

    /// <summary>
    /// c[B, gateCount·H] += hPrev[B, H]·W_hhᵀ for the columns of units [j0, j1) in each of the gateCount gate blocks, from
    /// those slivers of the packed W_hhᵀ (packed gate by gate, <see cref="CheckPacked"/>); the calling member packs hPrev
    /// into <paramref name="packedA"/> for itself (B·H floats, cheap beside the product). Shared by the LSTM's, the GRU's
    /// and the RNN's forward gangs.
    /// </summary>
    internal static void AddRecurrentProduct(PackedMatrix weightHhT, float* hPrev, float* c, float* packedA, int batch, int hiddenSize, int gateCount, int j0, int j1)
    {
        int nr = weightHhT.Geometry.Nr, gateSlivers = (hiddenSize + nr - 1) / nr;
        var step = GemmJob.ForPackedB(weightHhT, false, batch, 1f, hPrev, 1f, c, 1);
        step.PrefetchCTiles();
        step.PackSharedA(packedA, 1);
        for (int mBlock = 0; mBlock < step.RowBlocks; mBlock++)
        {
            for (int gate = 0; gate < gateCount; gate++)
            {
                // The next gate block's first sliver follows this one's last.
                int s0 = (gate * gateSlivers) + (j0 / nr), s1 = (gate * gateSlivers) + ((j1 + nr - 1) / nr);
                int after = gate + 1 < gateCount ? ((gate + 1) * gateSlivers) + (j0 / nr) : -1;
                step.RunTile(mBlock, s0, s1, after);
            }
        }
    }

    /// <summary>
    /// A member's scratch for <see cref="AddRecurrentProduct"/>'s packed h_{t−1}: B rounded up to MR rows, times K = H
    /// (GemmJob.SharedALength). Shared by the LSTM's, the GRU's and the RNN's forward gangs.
    /// </summary>
    internal static CpuScratch.Rental RentPackedHidden(PackedMatrix weightHhT, int batch, int hiddenSize)
    {
        int mr = weightHhT.Geometry.Mr;
        return CpuScratch.Rent((long)((batch + mr - 1) / mr * mr) * hiddenSize);
    }

    /// <summary>dh[B, H] += dGates[B, K]·W_hh for columns [j0, j1), from those slivers of the packed W_hh [K, H].</summary>
    internal static void AddRecurrentGradient(PackedMatrix weightHh, float* dGates, float* dh, int batch, int hiddenSize, int j0, int j1)
    {
        int nr = weightHh.Geometry.Nr;
        var step = GemmJob.ForPackedB(weightHh, false, batch, 1f, dGates, 1f, dh, 1);
        step.PrefetchCTiles();
        for (int mBlock = 0; mBlock < step.RowBlocks; mBlock++)
        {
            step.RunTile(mBlock, j0 / nr, (j1 + nr - 1) / nr);
        }
    }

    /// <summary>
    /// Member p's hidden units: a share of the slivers of a gate as equal as whole slivers allow, so every boundary is
    /// on a sliver but H itself, which ends the last member's share.
    /// </summary>
    internal static (int Start, int End) Units(int member, int members, int hiddenSize, int nr)
    {
        int slivers = (hiddenSize + nr - 1) / nr;
        return (slivers * member / members * nr, Math.Min(hiddenSize, slivers * (member + 1) / members * nr));
    }

    /// <summary>
    /// The forward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps as one member of
    /// a group (<see cref="Steps"/>); split by hidden units, or by batch rows when <paramref name="byRows"/> (<see cref="SplitsByRows"/>).
    /// </summary>
    internal readonly struct ForwardGang(
        float* gates, float* cells, float* hidden, float* h0, float* c0, bool hasInitialHidden, PackedMatrix weightHhT, int steps, int batch, int hiddenSize, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        /// <summary>Steps [t0, t1), member <paramref name="member"/>'s share, meeting the other members after each step unless split by rows.</summary>
        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var (b0, b1, j0, j1) = Share(member, group.Members, byRows, batch, hiddenSize, weightHhT.Geometry.Nr);
            int wide = 4 * hiddenSize, rows = b1 - b0;
            using var packedA = RentPackedHidden(weightHhT, rows, hiddenSize);
            float* aAligned = packedA.Pointer;
            for (int t = t0; t < t1 && rows > 0; t++)
            {
                float* gatesT = gates + ((long)t * batch * wide);
                float* hPrev = t > 0 ? hidden + ((long)(t - 1) * batch * hiddenSize) : h0;
                float* cPrev = t > 0 ? cells + ((long)(t - 1) * batch * hiddenSize) : c0;
                if (t > 0 || hasInitialHidden)
                {
                    AddRecurrentProduct(weightHhT, hPrev + ((long)b0 * hiddenSize), gatesT + ((long)b0 * wide), aAligned, rows, hiddenSize, 4, j0, j1);
                }

                for (int b = b0; b < b1; b++)
                {
                    long w = ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    float* cT = cells + ((long)t * batch * hiddenSize);
                    float* hT = hidden + ((long)t * batch * hiddenSize);
                    CpuLstmCell.ForwardUnits(gatesT + w, cPrev + n, gatesT + w, cT + n, hT + n, j1 - j0, hiddenSize, width);
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
    /// The backward recurrence of one layer: all steps as a gang (<see cref="Run"/>), or a range of steps as one member of
    /// a group (<see cref="Steps"/>); split by hidden units, or by batch rows when <paramref name="byRows"/>.
    /// </summary>
    /// <remarks>
    /// The bias gradient accumulates into the panels' totals (<see cref="GateColumnSums"/>), which the caller zeroes once
    /// before the first range of steps and folds into dBias after the last.
    /// </remarks>
    internal readonly struct BackwardGang(
        float* gates, float* cells, float* c0, float* dH, float* dc, float* dPre, float* biasTotals, PackedMatrix weightHh, int steps, int batch, int hiddenSize, CpuVectorWidth width, bool byRows = false) : IGangBody, IRecurrenceSteps
    {
        public void Run(int member, int members) => Steps(member, CpuThreadTeam.Barrier(members), 0, steps);

        /// <summary>Steps t1 − 1 down to t0, member <paramref name="member"/>'s share, meeting the other members after each step unless split by rows.</summary>
        public void Steps(int member, SpinBarrier group, int t0, int t1)
        {
            var share = Share(member, group.Members, byRows, batch, hiddenSize, weightHh.Geometry.Nr);
            int units = share.J1 - share.J0;
            float[] panelSums = ArrayPool<float>.Shared.Rent(4 * units);
            try
            {
                StepsWithSums(share, group, t0, t1, panelSums.AsSpan(0, 4 * units));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(panelSums);
            }
        }

        private void StepsWithSums((int B0, int B1, int J0, int J1) share, SpinBarrier group, int t0, int t1, Span<float> panelSums)
        {
            var (b0, b1, j0, j1) = share;
            int wide = 4 * hiddenSize, units = j1 - j0, rows = b1 - b0;
            for (int t = t1 - 1; t >= t0 && rows > 0; t--)
            {
                float* dHT = dH + ((long)t * batch * hiddenSize);
                if (t < steps - 1)
                {
                    // dh_t += d(pre)_{t+1}·W_hh, for this member's rows and columns of dh (its slivers of the packed W_hh).
                    AddRecurrentGradient(weightHh, dPre + ((long)(t + 1) * batch * wide) + ((long)b0 * wide), dHT + ((long)b0 * hiddenSize), rows, hiddenSize, j0, j1);
                }

                float* gatesT = gates + ((long)t * batch * wide);
                float* dPreT = dPre + ((long)t * batch * wide);
                float* cT = cells + ((long)t * batch * hiddenSize);
                float* cPrev = t > 0 ? cells + ((long)(t - 1) * batch * hiddenSize) : c0;
                for (int b = b0; b < b1; b++)
                {
                    long w = ((long)b * wide) + j0, n = ((long)b * hiddenSize) + j0;
                    CpuLstmCell.BackwardUnits(gatesT + w, cT + n, cPrev + n, dHT + n, dc + n, dPreT + w, dc + n, units, hiddenSize, width);
                    GateColumnSums.AddBatchRow(dPreT + w, panelSums, biasTotals, b, batch, 4, units, hiddenSize, j0, width);
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
