namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The wavefront over two stacked recurrent layers (<see cref="CpuRecurrenceSchedule.Wavefront"/>), for any cell whose
/// layers take their input through one projection x·W_ihᵀ + bias (the LSTM's gates, the GRU's gi, the RNN's preactivations), run by
/// <see cref="CpuWavefront"/>. Forward, a group of threads (one thread on two or three cores, half of them on more; see
/// <see cref="ChainMembers"/>) runs the lower layer's steps chunk by chunk, splitting each step's hidden units as the
/// split schedule's gang does, and applies the dropout between the layers to the chunk; the upper layer's input
/// projection of the chunk (a GEMM of the chunk's rows) is cut into parts by columns and taken by whichever thread is
/// free; another group runs the upper layer's steps behind. Backward
/// mirrors it from the last step: the upper layer's backward steps lead, the chunk's input gradient
/// (d(projection)·W_ih) and the dropout's backward hand it over, and the lower layer's backward steps trail.
/// <para>
/// Every float is computed by the same microkernel over the same K blocks and the same cell code as the split schedule
/// computes it (a GEMM's element does not depend on how C is cut into tiles, and the dropout mask is a function of the
/// element's index): the results are bit-identical to it.
/// </para>
/// </summary>
internal static unsafe class CpuRecurrenceWavefront
{
    /// <summary>
    /// The fewest rows a chunk's hand-over GEMM gets: enough row panels for the microkernel, few enough steps that the
    /// trailing chain starts (and the leading chain's thread ends) soon. Two steps at batch 100.
    /// </summary>
    public const int MinChunkRows = 192;

    /// <summary>Steps per chunk for <paramref name="batch"/> rows a step.</summary>
    public static int ChunkSteps(int batch) => Math.Max(1, (MinChunkRows + batch - 1) / batch);

    /// <summary>
    /// Runs two layers forward: <paramref name="lower"/>'s steps, the projection into <paramref name="upperProjection"/>
    /// [T·B, N] = upperInput·op(<paramref name="weightIhT"/>) + <paramref name="bias"/> [N], and <paramref name="upper"/>'s
    /// steps, which read it. <paramref name="upperInput"/> [T·B, H] receives dropout(<paramref name="lowerHidden"/>) (p = 0
    /// copies; when it is lowerHidden itself nothing is written).
    /// </summary>
    public static void Forward<TLower, TUpper>(
        TLower lower, TUpper upper, float* lowerHidden, float* upperInput, float dropout, ulong seed, ulong stream, PackedMatrix weightIhT, float* bias, float* upperProjection,
        int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps)
        where TLower : struct, IRecurrenceSteps
        where TUpper : struct, IRecurrenceSteps
    {
        int chunk = chunkSteps > 0 ? chunkSteps : ChunkSteps(batch);
        var body = new ForwardWave<TLower, TUpper>(lower, upper, lowerHidden, upperInput, dropout, seed, stream, weightIhT, bias, upperProjection, steps, batch, hiddenSize, chunk, width);
        CpuWavefront.Run((steps + chunk - 1) / chunk, threads, ChainMembers(hiddenSize, threads, weightIhT.Geometry.Nr), ref body);
    }

    /// <summary>
    /// Runs two layers backward: <paramref name="upper"/>'s backward steps, which write <paramref name="upperDProjection"/>
    /// [T·B, K]; the lower layer's dH <paramref name="lowerDH"/> [T·B, H] = dropout'(upperDProjection·op(<paramref name="weightIh"/>));
    /// then <paramref name="lower"/>'s backward steps, which add their recurrent terms to it.
    /// </summary>
    public static void Backward<TUpper, TLower>(
        TUpper upper, TLower lower, float* upperDProjection, PackedMatrix weightIh, float* lowerDH, float dropout, ulong seed, ulong stream,
        int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps)
        where TUpper : struct, IRecurrenceSteps
        where TLower : struct, IRecurrenceSteps
    {
        int chunk = chunkSteps > 0 ? chunkSteps : ChunkSteps(batch);
        var body = new BackwardWave<TUpper, TLower>(upper, lower, upperDProjection, weightIh, lowerDH, dropout, seed, stream, steps, batch, hiddenSize, chunk, width);
        CpuWavefront.Run((steps + chunk - 1) / chunk, threads, ChainMembers(hiddenSize, threads, weightIh.Geometry.Nr), ref body);
    }

    /// <summary>
    /// Throws unless the weights of a wavefront over cells of <paramref name="gates"/> gates are packed as its steps
    /// multiply by them: forward, both layers' W_hhᵀ gate by gate and the upper layer's W_ihᵀ plainly, all [H, G·H];
    /// backward, all three plainly, [G·H, H].
    /// </summary>
    public static void CheckWeights(PackedMatrix lowerHh, PackedMatrix upperHh, PackedMatrix upperIh, int gates, int hiddenSize, bool forward)
    {
        int k = forward ? hiddenSize : gates * hiddenSize, n = forward ? gates * hiddenSize : hiddenSize;
        CpuLstmRecurrence.CheckPacked(lowerHh, k, n, forward ? gates : 1, "lower.Weight");
        CpuLstmRecurrence.CheckPacked(upperHh, k, n, forward ? gates : 1, "upper.Weight");
        CpuLstmRecurrence.CheckPacked(upperIh, k, n, 1, forward ? "weightIhT" : "weightIh");
    }

    /// <summary>
    /// The threads each layer's steps get: half of them (of those the machine has), fewer where the hidden units do not
    /// split into that many equal whole slivers. 1 on two or three threads.
    /// </summary>
    public static int ChainMembers(int hiddenSize, int threads, int nr) =>
        CpuLstmRecurrence.Members(hiddenSize, Math.Max(1, Math.Min(threads, CpuThreadTeam.MaxThreads) / 2), nr);

    /// <summary>
    /// C[rows, columns of slivers part·S/parts .. (part+1)·S/parts) = A[rows, K]·B for a packed B, on the calling thread,
    /// with the blocking a whole-matrix GEMM with this B uses (so the same floats).
    /// </summary>
    private static void ProductPart(PackedMatrix b, float* a, float* c, int rows, int part, int parts)
    {
        int slivers = b.PaddedN / b.Geometry.Nr;
        int s0 = slivers * part / parts, s1 = slivers * (part + 1) / parts;
        if (s0 == s1)
        {
            return;
        }

        var job = GemmJob.ForPackedB(b, false, rows, 1f, a, 0f, c, 1);
        for (int mBlock = 0; mBlock < job.RowBlocks; mBlock++)
        {
            job.RunTile(mBlock, s0, s1);
        }
    }

    /// <summary>Chunk c's steps [t0, t1).</summary>
    private static (int T0, int T1) Steps(int chunk, int chunkSteps, int steps) =>
        (chunk * chunkSteps, Math.Min(steps, (chunk + 1) * chunkSteps));

    private readonly struct ForwardWave<TLower, TUpper>(
        TLower lower, TUpper upper, float* lowerHidden, float* upperInput, float dropout, ulong seed, ulong stream,
        PackedMatrix weightIhT, float* bias, float* upperGates, int steps, int batch, int hiddenSize, int chunkSteps, CpuVectorWidth width) : IWavefrontBody
        where TLower : struct, IRecurrenceSteps
        where TUpper : struct, IRecurrenceSteps
    {
        public void Leading(int chunk, int member, SpinBarrier group)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            lower.Steps(member, group, t0, t1);

            // The steps end at the group's barrier, so member 0 finds every row of h done.
            if (member == 0 && upperInput != lowerHidden)
            {
                CpuDropout.ApplyRange(lowerHidden, upperInput, (long)t0 * batch * hiddenSize, (long)t1 * batch * hiddenSize, dropout, seed, stream, width);
            }
        }

        public void HandOver(int chunk, int part, int parts)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            long r0 = (long)t0 * batch;
            int rows = (t1 - t0) * batch, wide = weightIhT.N, nr = weightIhT.Geometry.Nr;
            float* gates = upperGates + (r0 * wide);
            ProductPart(weightIhT, upperInput + (r0 * hiddenSize), gates, rows, part, parts);

            // Then the biases, as the split schedule adds them after its projection GEMM, over the part's columns (the
            // last part's last sliver may be a part of one).
            int slivers = (wide + nr - 1) / nr;
            int c0 = Math.Min(wide, slivers * part / parts * nr), c1 = Math.Min(wide, slivers * (part + 1) / parts * nr);
            var b = new ReadOnlySpan<float>(bias + c0, c1 - c0);
            for (int i = 0; i < rows; i++)
            {
                var row = new Span<float>(gates + ((long)i * wide) + c0, c1 - c0);
                CpuElementwise.Binary(row, b, row, default(AddOperator), width);
            }
        }

        public void Trailing(int chunk, int member, SpinBarrier group)
        {
            var (t0, t1) = Steps(chunk, chunkSteps, steps);
            upper.Steps(member, group, t0, t1);
        }
    }

    private readonly struct BackwardWave<TUpper, TLower>(
        TUpper upper, TLower lower, float* upperDPre, PackedMatrix weightIh, float* lowerDH, float dropout, ulong seed, ulong stream,
        int steps, int batch, int hiddenSize, int chunkSteps, CpuVectorWidth width) : IWavefrontBody
        where TUpper : struct, IRecurrenceSteps
        where TLower : struct, IRecurrenceSteps
    {
        private int Chunks => (steps + chunkSteps - 1) / chunkSteps;

        public void Leading(int chunk, int member, SpinBarrier group)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            upper.Steps(member, group, t0, t1);
        }

        public void HandOver(int chunk, int part, int parts)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            long r0 = (long)t0 * batch;
            ProductPart(weightIh, upperDPre + (r0 * weightIh.K), lowerDH + (r0 * hiddenSize), (t1 - t0) * batch, part, parts);
        }

        public void Trailing(int chunk, int member, SpinBarrier group)
        {
            var (t0, t1) = Steps(Chunks - 1 - chunk, chunkSteps, steps);
            if (dropout > 0f)
            {
                // Member 0 masks the whole chunk, whose columns the other members' steps read.
                if (member == 0)
                {
                    CpuDropout.ApplyRange(lowerDH, lowerDH, (long)t0 * batch * hiddenSize, (long)t1 * batch * hiddenSize, dropout, seed, stream, width);
                }

                group.Wait();
            }

            lower.Steps(member, group, t0, t1);
        }
    }
}
