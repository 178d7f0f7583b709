namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrences of two stacked LSTM layers at once, as a wavefront (<see cref="CpuWavefront"/>), for
/// <see cref="CpuRecurrenceSchedule.Wavefront"/>. Forward, one thread runs the lower layer's steps chunk by chunk (each
/// step: the whole recurrent GEMM and the cell, as <see cref="CpuLstmRecurrence"/> runs them on one thread) and applies the
/// dropout between the layers to the chunk; the upper layer's input projection of the chunk (x·W_ihᵀ + bias, a GEMM of
/// the chunk's rows) is cut into parts by columns and taken by whichever thread is free; another thread runs the upper
/// layer's steps behind. Backward mirrors it from the last step: the upper layer's backward steps lead, the input gradient
/// of the chunk (d(pre)·W_ih) and the dropout's backward hand it over, and the lower layer's backward steps trail.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same cell code as the split schedule
/// computes it (a GEMM's element does not depend on how C is cut into tiles, and the dropout mask is a function of the
/// element's index): the results are bit-identical to it.
/// </para>
/// </summary>
internal static unsafe class CpuLstmWavefront
{
    /// <summary>
    /// The fewest rows a chunk's hand-over GEMM gets: enough row panels for the microkernel, few enough steps that the
    /// trailing chain starts (and the leading chain's thread ends) soon. Two steps at batch 100.
    /// </summary>
    public const int MinChunkRows = 192;

    /// <summary>Steps per chunk for <paramref name="batch"/> rows a step.</summary>
    public static int ChunkSteps(int batch) => Math.Max(1, (MinChunkRows + batch - 1) / batch);

    /// <summary>
    /// Runs both layers' forward recurrences and the upper layer's input projection. <paramref name="lower"/> has its
    /// input preactivations (x·W_ihᵀ + biases) in its gates, as <see cref="CpuLstmRecurrence.Forward"/> wants them.
    /// <paramref name="upperInput"/> [T·B, H] receives dropout(lower h) (p = 0 copies; it may be the lower layer's hidden
    /// itself, and then nothing is written). The upper layer's gates [T·B, 4H] receive upperInput·W_ihᵀ + <paramref name="bias"/>
    /// ([4H], b_ih + b_hh) before its recurrence reads them. <paramref name="weightIhT"/> is op(B) = W_ihᵀ [H, 4H] of the upper
    /// layer, packed by <see cref="CpuGemm.PackB"/> like the recurrent weights. <paramref name="chunkSteps"/> 0 takes <see cref="ChunkSteps"/>.
    /// </summary>
    public static void Forward(
        in LstmLayerPointers lower, float* upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, PackedMatrix weightIhT, float* bias, in LstmLayerPointers upper, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuLstmRecurrence.CheckPacked(lower.Weight, hiddenSize, 4 * hiddenSize, hiddenSize, "lower.Weight");
        CpuLstmRecurrence.CheckPacked(upper.Weight, hiddenSize, 4 * hiddenSize, hiddenSize, "upper.Weight");
        CpuLstmRecurrence.CheckPacked(weightIhT, hiddenSize, 4 * hiddenSize, hiddenSize, nameof(weightIhT));
        int chunk = chunkSteps > 0 ? chunkSteps : ChunkSteps(batch);
        var body = new ForwardWave(
            new CpuLstmRecurrence.ForwardGang(lower.Gates, lower.Cells, lower.Hidden, lower.H0, lower.C0, lower.HasInitialHidden, lower.Weight, steps, batch, hiddenSize, width),
            new CpuLstmRecurrence.ForwardGang(upper.Gates, upper.Cells, upper.Hidden, upper.H0, upper.C0, upper.HasInitialHidden, upper.Weight, steps, batch, hiddenSize, width),
            lower.Hidden, upperInput, dropout, dropoutSeed, dropoutStream, weightIhT, bias, upper.Gates, steps, batch, hiddenSize, chunk);
        CpuWavefront.Run((steps + chunk - 1) / chunk, threads, ref body);
    }

    /// <summary>
    /// Runs both layers' backward recurrences and the input gradient between them. <paramref name="upper"/>'s dH holds
    /// dL/dh from above; <paramref name="lower"/>'s dH [T·B, H] receives dL/d(lower h) = dropout'(d(pre of upper)·W_ih) and
    /// then the lower layer's recurrent terms. Both dc [B, H] must be zero; both d(pre) [T·B, 4H] are written, as
    /// <see cref="CpuLstmRecurrence.Backward"/> writes them. <paramref name="weightIh"/> is op(B) = W_ih [4H, H] of the upper
    /// layer, packed. <paramref name="dropout"/> is the probability the forward applied (0 when it applied none).
    /// </summary>
    public static void Backward(
        in LstmLayerGradientPointers upper, PackedMatrix weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientPointers lower, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuLstmRecurrence.CheckPacked(upper.Weight, 4 * hiddenSize, hiddenSize, hiddenSize, "upper.Weight");
        CpuLstmRecurrence.CheckPacked(lower.Weight, 4 * hiddenSize, hiddenSize, hiddenSize, "lower.Weight");
        CpuLstmRecurrence.CheckPacked(weightIh, 4 * hiddenSize, hiddenSize, hiddenSize, nameof(weightIh));
        int chunk = chunkSteps > 0 ? chunkSteps : ChunkSteps(batch);
        var body = new BackwardWave(
            new CpuLstmRecurrence.BackwardGang(upper.Gates, upper.Cells, upper.C0, upper.DH, upper.Dc, upper.DPre, upper.Weight, steps, batch, hiddenSize, width),
            new CpuLstmRecurrence.BackwardGang(lower.Gates, lower.Cells, lower.C0, lower.DH, lower.Dc, lower.DPre, lower.Weight, steps, batch, hiddenSize, width),
            upper.DPre, weightIh, lower.DH, dropout, dropoutSeed, dropoutStream, steps, batch, hiddenSize, chunk);
        CpuWavefront.Run((steps + chunk - 1) / chunk, threads, ref body);
    }

    /// <summary>
    /// C[rows, columns of slivers part·S/parts .. (part+1)·S/parts) = A[rows, K]·B for a packed B, on the calling thread,
    /// with the blocking a whole-matrix GEMM with this B uses (so the same floats).
    /// </summary>
    private static void ProductPart(PackedMatrix b, float* a, float* c, int rows, int part, int parts)
    {
        int slivers = (b.N + b.Geometry.Nr - 1) / b.Geometry.Nr;
        int s0 = slivers * part / parts, s1 = slivers * (part + 1) / parts;
        if (s0 == s1)
        {
            return;
        }

        var job = new GemmJob(b.Geometry, false, rows, b.N, b.K, 1f, a, 0f, c, 1);
        job.UsePackedB(b.Data);
        for (int mBlock = 0; mBlock < job.RowBlocks; mBlock++)
        {
            job.RunTile(mBlock, s0, s1);
        }
    }

    /// <summary>Chunk c's steps [t0, t1).</summary>
    private static (int T0, int T1) Steps(int chunk, int chunkSteps, int steps) =>
        (chunk * chunkSteps, Math.Min(steps, (chunk + 1) * chunkSteps));

    private readonly struct ForwardWave(
        CpuLstmRecurrence.ForwardGang lower, CpuLstmRecurrence.ForwardGang upper, float* lowerHidden, float* upperInput, float dropout, ulong seed, ulong stream,
        PackedMatrix weightIhT, float* bias, float* upperGates, int steps, int batch, int hiddenSize, int chunkSteps) : IWavefrontBody
    {
        public void Leading(int chunk)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            lower.Steps(0, 1, t0, t1);
            if (upperInput != lowerHidden)
            {
                CpuDropout.ApplyRange(lowerHidden, upperInput, (long)t0 * batch * hiddenSize, (long)t1 * batch * hiddenSize, dropout, seed, stream);
            }
        }

        public void HandOver(int chunk, int part, int parts)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            long r0 = (long)t0 * batch;
            int rows = (t1 - t0) * batch, wide = 4 * hiddenSize, nr = weightIhT.Geometry.Nr;
            float* gates = upperGates + (r0 * wide);
            ProductPart(weightIhT, upperInput + (r0 * hiddenSize), gates, rows, part, parts);

            // Then the biases, as the split schedule adds them after its projection GEMM.
            int slivers = wide / nr;
            int c0 = slivers * part / parts * nr, c1 = slivers * (part + 1) / parts * nr;
            var b = new ReadOnlySpan<float>(bias + c0, c1 - c0);
            for (int i = 0; i < rows; i++)
            {
                var row = new Span<float>(gates + ((long)i * wide) + c0, c1 - c0);
                CpuElementwise.Binary(row, b, row, default(AddOperator));
            }
        }

        public void Trailing(int chunk)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            upper.Steps(0, 1, t0, t1);
        }
    }

    private readonly struct BackwardWave(
        CpuLstmRecurrence.BackwardGang upper, CpuLstmRecurrence.BackwardGang lower, float* upperDPre, PackedMatrix weightIh, float* lowerDH, float dropout, ulong seed, ulong stream,
        int steps, int batch, int hiddenSize, int chunkSteps) : IWavefrontBody
    {
        private int Chunks => (steps + chunkSteps - 1) / chunkSteps;

        public void Leading(int chunk)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            upper.Steps(0, 1, t0, t1);
        }

        public void HandOver(int chunk, int part, int parts)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            long r0 = (long)t0 * batch;
            ProductPart(weightIh, upperDPre + (r0 * 4 * hiddenSize), lowerDH + (r0 * hiddenSize), (t1 - t0) * batch, part, parts);
        }

        public void Trailing(int chunk)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            if (dropout > 0f)
            {
                CpuDropout.ApplyRange(lowerDH, lowerDH, (long)t0 * batch * hiddenSize, (long)t1 * batch * hiddenSize, dropout, seed, stream);
            }

            lower.Steps(0, 1, t0, t1);
        }
    }
}

/// <summary>One LSTM layer's forward recurrence buffers, as <see cref="CpuLstmRecurrence.Forward"/> takes them; <see cref="Weight"/> is W_hhᵀ packed.</summary>
internal readonly unsafe struct LstmLayerPointers(float* gates, float* cells, float* hidden, float* h0, float* c0, bool hasInitialHidden, PackedMatrix weight)
{
    public float* Gates { get; } = gates;

    public float* Cells { get; } = cells;

    public float* Hidden { get; } = hidden;

    public float* H0 { get; } = h0;

    public float* C0 { get; } = c0;

    public bool HasInitialHidden { get; } = hasInitialHidden;

    public PackedMatrix Weight { get; } = weight;
}

/// <summary>One LSTM layer's backward recurrence buffers, as <see cref="CpuLstmRecurrence.Backward"/> takes them; <see cref="Weight"/> is W_hh packed.</summary>
internal readonly unsafe struct LstmLayerGradientPointers(float* gates, float* cells, float* c0, float* dH, float* dc, float* dPre, PackedMatrix weight)
{
    public float* Gates { get; } = gates;

    public float* Cells { get; } = cells;

    public float* C0 { get; } = c0;

    public float* DH { get; } = dH;

    public float* Dc { get; } = dc;

    public float* DPre { get; } = dPre;

    public PackedMatrix Weight { get; } = weight;
}
