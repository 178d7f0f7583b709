namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Single-precision GEMM on the CPU: C[m,n] = alpha·op(A)·op(B) + beta·C, row-major and dense.
/// op(A) is [m,k]: A is stored [m,k], or [k,m] when transposeA. op(B) is [k,n]: B is stored [k,n], or [n,k] when transposeB.
/// When beta is 0, C is only written (NaNs already in C do not propagate); when alpha or k is 0, A and B are not read.
/// The method follows Goto/BLIS: B is packed into slivers of NR columns, K is cut into equal blocks of at most KC,
/// A is packed into MR-row panels per block, and a register-blocked microkernel (8×32 on Vector512, 6×16 on
/// Vector256, 6×8 on Vector128, 4×4 scalar) computes each tile. The microkernel and the block sizes are a
/// <see cref="GemmGeometry"/>, given by the caller or else this process's (<see cref="GemmGeometry.Machine"/>);
/// see <see cref="GemmJob"/> for the blocking and threading.
/// Results are bit-identical for any thread count. The methods are reentrant pure functions of their arguments.
/// </summary>
internal static unsafe class CpuGemm
{
    /// <summary>
    /// Below this many multiply-adds (about 20 µs of work) a call stays on the calling thread: waking workers
    /// costs more than the work (the n-gram MLP's [100, 100]·[100, 32] GEMMs, split, ran many times slower).
    /// </summary>
    private const long ParallelThreshold = 1L << 21;

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C, packing B for this call only.
    /// </summary>
    /// <param name="transposeA">Whether A is stored [k,m] (so op(A) = Aᵀ).</param>
    /// <param name="transposeB">Whether B is stored [n,k] (so op(B) = Bᵀ).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, at least m·k floats.</param>
    /// <param name="b">B, at least k·n floats.</param>
    /// <param name="beta">Scale of the old C; 0 means C is not read.</param>
    /// <param name="c">C, at least m·n floats, row-major [m,n].</param>
    /// <param name="threads">Threads to use (1 runs on the calling thread).</param>
    /// <param name="geometry">The microkernel and blocking; null for this process's (<see cref="GemmGeometry.Machine"/>).</param>
    public static void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads, GemmGeometry? geometry = null)
    {
        CheckSizes(m, n, k, a.Length, b.Length, c.Length);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0f)
        {
            ScaleC(c, m, n, beta);
            return;
        }

        if ((long)m * n * k < ParallelThreshold)
        {
            threads = 1;
        }

        var plan = geometry ?? GemmGeometry.Machine;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (GemmFewRowsJob.Handles(plan, transposeA, transposeB, m, n, k))
            {
                var fewRows = new GemmFewRowsJob(m, n, k, plan.KcInPlaceFor(k), alpha, pa, pb, beta, pc, threads);
                CpuParallel.ForItems(fewRows.Items, threads, fewRows);
                return;
            }

            var job = new GemmJob(plan, transposeA, m, n, k, alpha, pa, beta, pc, threads);
            if (job.SplitsN && (long)k * n * sizeof(float) <= plan.L2Bytes)
            {
                // Each item packs its own slivers of B while they are hot in cache. A B larger than L2 is packed whole
                // first, row by row: an item's slivers are a narrow column of every row of B, which, read from memory,
                // waits on each line. On the AMD EPYC the output layer's weight gradient [32×256×9900], with h from
                // memory, took 1.8–2.2 ms packed per item and 1.2–1.3 ms packed first.
                job.PackBPerItem(pb, transposeB);
                Run(job, threads);
                return;
            }

            using var packed = CpuScratch.Rent((long)k * job.PaddedN);
            PackBInto(pb, transposeB, k, n, plan, job.Kc, job.PaddedN, packed.Pointer, threads);
            job.UsePackedB(packed.Pointer);
            Run(job, threads);
        }
    }

    /// <summary>
    /// Two products with one A: C1 = alpha·op(A)·B1 + beta·C1 and C2 = alpha·op(A)·B2 + beta·C2, with B1 [k, n1] and
    /// B2 [k, n2] stored untransposed. op(A) is packed once for both, where two calls would pack it twice (the LSTM's
    /// dW_ih and dW_hh, whose A is the 40 MB d(pre) of a 2×256 layer read transposed). Every element is the same float as
    /// <see cref="Gemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Span{float}, int, GemmGeometry?)"/>
    /// computes for its own C.
    /// </summary>
    /// <param name="transposeA">Whether A is stored [k,m].</param>
    /// <param name="m">Rows of op(A), C1 and C2.</param>
    /// <param name="n1">Columns of B1 and C1.</param>
    /// <param name="n2">Columns of B2 and C2.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="alpha">Scale of the products.</param>
    /// <param name="a">A, at least m·k floats.</param>
    /// <param name="b1">B1, at least k·n1 floats.</param>
    /// <param name="b2">B2, at least k·n2 floats.</param>
    /// <param name="beta">Scale of the old C1 and C2; 0 means they are not read.</param>
    /// <param name="c1">C1, at least m·n1 floats.</param>
    /// <param name="c2">C2, at least m·n2 floats.</param>
    /// <param name="threads">Threads to use.</param>
    /// <param name="geometry">The microkernel and blocking; null for this process's (<see cref="GemmGeometry.Machine"/>).</param>
    public static void GemmSharedA(
        bool transposeA, int m, int n1, int n2, int k, float alpha, ReadOnlySpan<float> a, ReadOnlySpan<float> b1, ReadOnlySpan<float> b2, float beta, Span<float> c1, Span<float> c2, int threads, GemmGeometry? geometry = null)
    {
        CheckSizes(m, n1, k, a.Length, b1.Length, c1.Length);
        CheckSizes(m, n2, k, a.Length, b2.Length, c2.Length);
        if (m == 0 || n1 == 0 || n2 == 0 || k == 0 || alpha == 0f)
        {
            Gemm(transposeA, false, m, n1, k, alpha, a, b1, beta, c1, threads, geometry);
            Gemm(transposeA, false, m, n2, k, alpha, a, b2, beta, c2, threads, geometry);
            return;
        }

        var plan = geometry ?? GemmGeometry.Machine;
        int firstSlivers = (n1 + plan.Nr - 1) / plan.Nr;
        if ((long)m * (n1 + n2) * k < ParallelThreshold)
        {
            threads = 1;
        }

        fixed (float* pa = a, pb1 = b1, pb2 = b2, pc1 = c1, pc2 = c2)
        {
            var job = new GemmJob(plan, transposeA, m, (firstSlivers * plan.Nr) + n2, k, alpha, pa, beta, pc1, threads);
            job.SplitColumns(n1, pc2, n2);
            using var packed = CpuScratch.Rent((long)k * job.PaddedN);
            PackBInto(pb1, false, k, n1, plan, job.Kc, job.PaddedN, packed.Pointer, threads);
            PackBInto(pb2, false, k, n2, plan, job.Kc, job.PaddedN, packed.Pointer, threads, firstSlivers);
            job.UsePackedB(packed.Pointer);
            Run(job, threads);
        }
    }

    /// <summary>
    /// Packs op(B) ([k,n]) for repeated use by <see cref="Gemm(bool, int, float, ReadOnlySpan{float}, PackedMatrix, float, Span{float}, int)"/>.
    /// When <paramref name="reuse"/> has the same shape it is refilled and returned; otherwise it is disposed and a new matrix returned.
    /// </summary>
    /// <param name="transposeB">Whether B is stored [n,k].</param>
    /// <param name="k">Rows of op(B).</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="b">B, at least k·n floats.</param>
    /// <param name="threads">Threads to pack with.</param>
    /// <param name="reuse">A previous packing to overwrite, or null.</param>
    /// <param name="geometry">The blocking to pack for; null for this process's (<see cref="GemmGeometry.Machine"/>).</param>
    /// <param name="groups">Equal groups of op(B)'s columns to start on slivers of their own (<see cref="PackedMatrix.Groups"/>):
    /// a recurrent weight's gates. Beyond 1, B must be stored [n, k] (<paramref name="transposeB"/>).</param>
    /// <returns>The packed matrix; the caller owns and disposes it. GEMMs with it use its geometry.</returns>
    public static PackedMatrix PackB(bool transposeB, int k, int n, ReadOnlySpan<float> b, int threads = 1, PackedMatrix? reuse = null, GemmGeometry? geometry = null, int groups = 1)
    {
        ArgumentChecks.ThrowIfNegative(k);
        ArgumentChecks.ThrowIfNegative(n);
        if (b.Length < (long)k * n)
        {
            throw new ArgumentException($"B has {b.Length} floats; op(B) [{k}, {n}] needs {(long)k * n}.", nameof(b));
        }

        var plan = geometry ?? GemmGeometry.Machine;
        if (PackedMatrix.LayoutGroups(n, groups, plan.Nr) > 1 && !transposeB)
        {
            throw new ArgumentException("Column groups are packed from a B stored [n, k], whose groups are blocks of rows.", nameof(groups));
        }

        PackedMatrix packed;
        if (reuse is not null && reuse.Fits(k, n, plan, groups))
        {
            packed = reuse;
        }
        else
        {
            reuse?.Dispose();
            packed = new PackedMatrix(k, n, plan, groups);
        }

        fixed (float* pb = b)
        {
            // Group g is op(B)'s columns [g·n/G, (g+1)·n/G): rows of the stored B, packed as a matrix of their own.
            int columns = n / packed.Groups;
            for (int g = 0; g < packed.Groups; g++)
            {
                PackBInto(pb + ((long)g * columns * k), transposeB, k, columns, plan, packed.Kc, packed.PaddedN, packed.Data, threads, g * packed.GroupSlivers);
            }
        }

        return packed;
    }

    /// <summary>
    /// C = alpha·op(A)·B + beta·C with B already packed by <see cref="PackB"/> (op(B) is [b.K, b.N]), with the
    /// geometry B was packed for.
    /// </summary>
    /// <param name="transposeA">Whether A is stored [k,m].</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, at least m·b.K floats.</param>
    /// <param name="b">The packed B.</param>
    /// <param name="beta">Scale of the old C; 0 means C is not read.</param>
    /// <param name="c">C, at least m·b.N floats, row-major [m, b.N].</param>
    /// <param name="threads">Threads to use.</param>
    public static void Gemm(bool transposeA, int m, float alpha, ReadOnlySpan<float> a, PackedMatrix b, float beta, Span<float> c, int threads)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.N, k = b.K;
        CheckSizes(m, n, k, a.Length, (long)k * n, c.Length);

        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0f)
        {
            ScaleC(c, m, n, beta);
            return;
        }

        if ((long)m * n * k < ParallelThreshold)
        {
            threads = 1;
        }

        fixed (float* pa = a, pc = c)
        {
            Run(GemmJob.ForPackedB(b, transposeA, m, alpha, pa, beta, pc, threads), threads);
        }
    }

    private static void CheckSizes(int m, int n, int k, long aLength, long bLength, long cLength)
    {
        ArgumentChecks.ThrowIfNegative(m);
        ArgumentChecks.ThrowIfNegative(n);
        ArgumentChecks.ThrowIfNegative(k);
        if (aLength < (long)m * k || bLength < (long)k * n || cLength < (long)m * n)
        {
            throw new ArgumentException(
                $"GEMM buffers too small for m={m}, n={n}, k={k}: A has {aLength} floats (needs {(long)m * k}), " +
                $"B {bLength} (needs {(long)k * n}), C {cLength} (needs {(long)m * n}).");
        }
    }

    /// <summary>The degenerate product (k = 0 or alpha = 0): C = beta·C, with beta = 0 writing zeros.</summary>
    private static void ScaleC(Span<float> c, int m, int n, float beta)
    {
        var region = c[..(m * n)];
        if (beta == 0f)
        {
            region.Clear();
        }
        else if (beta != 1f)
        {
            for (int i = 0; i < region.Length; i++)
            {
                region[i] *= beta;
            }
        }
    }

    /// <summary>
    /// Packs op(B) whole, as items of one K block × a range of slivers: whole K blocks when there are enough of them to
    /// share among the threads, otherwise each block's slivers split further (a [256, 1024] weight is one K block).
    /// Its slivers go to slivers <paramref name="firstSliver"/> on of a packing <paramref name="paddedN"/> wide.
    /// </summary>
    private static void PackBInto(float* b, bool transposeB, int k, int n, GemmGeometry geometry, int kc, int paddedN, float* packed, int threads, int firstSliver = 0)
    {
        int slivers = (n + geometry.Nr - 1) / geometry.Nr;
        int kBlocks = (k + kc - 1) / kc;
        if (threads <= 1 || (long)k * n < ParallelThreshold / 4)
        {
            threads = 1;
        }

        int groups = Math.Clamp(((2 * threads) + kBlocks - 1) / kBlocks, 1, Math.Max(1, slivers));
        var body = new PackBBlocks(b, transposeB, k, n, kc, geometry.Nr, paddedN, slivers, groups, firstSliver, packed);
        CpuParallel.ForItems(kBlocks * groups, threads, body);
    }

    /// <summary>Runs a job whose B is set up: packs A once first when the items share it.</summary>
    private static void Run(GemmJob job, int threads)
    {
        if (!job.SplitsN)
        {
            RunItems(job, threads);
            return;
        }

        using var sharedA = CpuScratch.Rent(job.SharedALength);
        job.PackSharedA(sharedA.Pointer, threads);
        RunItems(job, threads);
    }

    /// <summary>Runs the job's items; where its row blocks can be shared (<see cref="GemmJob.CanShareRowBlocks"/>), with their claims on this stack.</summary>
    private static void RunItems(GemmJob job, int threads)
    {
        threads = Math.Min(CpuParallel.Threads(threads), CpuThreadTeam.MaxThreads);
        if (job.CanShareRowBlocks(threads))
        {
            int bytes = (job.RowBlocks + 1) * RowBlockClaims.SlotBytes;
            byte* slots = stackalloc byte[bytes];
            new Span<byte>(slots, bytes).Clear();
            job.ShareRowBlocks(RowBlockClaims.Align(slots), threads);
        }

        CpuParallel.ForItems(job.Items, threads, job);
    }

    /// <summary>Item i: K block i / groups, its slivers of group i % groups, packed into their place (after <c>firstSliver</c> others).</summary>
    private readonly struct PackBBlocks(float* b, bool transposeB, int k, int n, int kc, int nr, int paddedN, int slivers, int groups, int firstSliver, float* packed) : IParallelItems
    {
        public void Run(int item)
        {
            int pc = item / groups * kc, group = item % groups;
            int s0 = slivers * group / groups, s1 = slivers * (group + 1) / groups;
            int kcLen = Math.Min(kc, k - pc);
            GemmPacking.PackBBlock(b, transposeB, k, n, pc, kcLen, nr, s0, s1, packed + ((long)pc * paddedN) + ((long)firstSliver * kcLen * nr));
        }
    }
}
