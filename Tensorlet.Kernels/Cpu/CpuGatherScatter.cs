using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One-hot(indices)·weightᵀ as a lookup (GatherColumns) and its backward (ScatterAddColumns), for a weight
/// in Linear layout [Out, In]. Column c of the weight is strided by In, so when many rows share few columns
/// (the LSTM's 32-character input: N = 9900 rows, In = 32) the kernels go through a transposed copy where a
/// column is contiguous; when the columns outnumber the rows (the n-gram MLP: In ≈ 4700, N = 100) they read
/// the strided column directly, since transposing would cost more than the lookup.
/// </summary>
internal static unsafe class CpuGatherScatter
{
    /// <summary>The largest In·Out for which each scatter thread keeps its own transposed accumulator (16 MiB).</summary>
    private const long MaxTransposedAccumulator = 4 << 20;

    /// <summary>
    /// output[i, o] = weight[o, indices[i]] + bias[o] for weight [Out, In], indices [N], bias [Out] or empty (none),
    /// output [N, Out]. Each element is fl(w + b), the float a gather followed by a bias add would give. Throws on an
    /// index outside [0, In) or a bias that is neither empty nor Out long, before writing.
    /// </summary>
    public static void GatherColumns(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<int> indices, ReadOnlySpan<float> bias, Span<float> output, int threads, CpuVectorWidth width)
    {
        int n = indices.Length;
        IndexChecks.ThrowIfAnyColumnOutside(indices, inFeatures);
        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"GatherColumns: the bias has {bias.Length} elements; need {outFeatures} (Out) or none.", nameof(bias));
        }

        if (n == 0 || outFeatures == 0)
        {
            return;
        }

        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / outFeatures);
        fixed (float* wp = weight, op = output, bp = bias)
        fixed (int* xp = indices)
        {
            if (UseTransposed(n, inFeatures))
            {
                // weightT [In, Out]: row c is column c of the weight plus the bias, so each output row is one contiguous copy.
                var transposed = ArrayPool<float>.Shared.Rent(inFeatures * outFeatures);
                try
                {
                    fixed (float* tp = transposed)
                    {
                        CpuTranspose.Matrix(wp, outFeatures, inFeatures, tp);
                        CpuBias.AddBias(transposed.AsSpan(0, inFeatures * outFeatures), bias, threads, width);
                        CpuParallel.For(n, minRows, threads, new GatherRowsChunk(tp, xp, op, outFeatures));
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(transposed);
                }
            }
            else
            {
                CpuParallel.For(n, minRows, threads, new GatherStridedRows(wp, xp, bias.IsEmpty ? null : bp, op, outFeatures, inFeatures));
            }
        }
    }

    /// <summary>
    /// gradWeight[o, indices[i]] += gradOutput[i, o] for gradOutput [N, Out], gradWeight [Out, In]. No two threads
    /// write the same element. Throws on an index outside [0, In).
    /// </summary>
    public static void ScatterAddColumns(ReadOnlySpan<float> gradOutput, ReadOnlySpan<int> indices, Span<float> gradWeight, int outFeatures, int inFeatures, int threads, CpuVectorWidth width)
    {
        int n = indices.Length;
        IndexChecks.ThrowIfAnyColumnOutside(indices, inFeatures);
        if (n == 0 || outFeatures == 0)
        {
            return;
        }

        fixed (float* gf = gradOutput, wf = gradWeight)
        fixed (int* xf = indices)
        {
            if (UseTransposed(n, inFeatures) && (long)inFeatures * outFeatures <= MaxTransposedAccumulator)
            {
                ScatterTransposed(gf, xf, n, wf, outFeatures, inFeatures, threads, width);
            }
            else
            {
                ScatterStrided(gf, xf, n, wf, outFeatures, inFeatures, threads);
            }
        }
    }

    /// <summary>
    /// output[i] = source[positions[i]] for positions [N] and output [N]: token ids reordered (a batch-first sequence into
    /// the time-major order a recurrent module runs in). One pass on the calling thread: a batch of ids is a few thousand
    /// ints. Throws on a position outside [0, source.Length), before writing.
    /// </summary>
    public static void GatherIndices(ReadOnlySpan<int> source, ReadOnlySpan<int> positions, Span<int> output)
    {
        IndexChecks.ThrowIfAnyColumnOutside(positions, source.Length);
        for (int i = 0; i < positions.Length; i++)
        {
            output[i] = source[positions[i]];
        }
    }

    /// <summary>
    /// output[i, :] = table[indices[i], :] for table [Rows, Columns] (nn.Embedding's weight), indices [N], output [N, Columns].
    /// Throws on an index outside [0, Rows).
    /// </summary>
    public static void GatherRows(ReadOnlySpan<float> table, int rows, int columns, ReadOnlySpan<int> indices, Span<float> output, int threads)
    {
        IndexChecks.ThrowIfAnyColumnOutside(indices, rows);
        if (indices.Length == 0 || columns == 0)
        {
            return;
        }

        fixed (float* tp = table, op = output)
        fixed (int* xp = indices)
        {
            CpuParallel.For(indices.Length, Math.Max(1, CpuParallel.MinElementsPerChunk / columns), threads, new GatherRowsChunk(tp, xp, op, columns));
        }
    }

    /// <summary>
    /// gradTable[indices[i], :] += gradOutput[i, :], the backward of <see cref="GatherRows(ReadOnlySpan{float}, int, int, ReadOnlySpan{int}, Span{float}, int)"/>,
    /// except for i with indices[i] = <paramref name="skipRow"/>, which add nothing (nn.Embedding's padding_idx; −1 skips
    /// none). Threads own blocks of columns, so repeated indices never race and the sums run in row order: deterministic.
    /// </summary>
    public static void ScatterAddRows(ReadOnlySpan<float> gradOutput, ReadOnlySpan<int> indices, Span<float> gradTable, int rows, int columns, int skipRow, int threads, CpuVectorWidth width)
    {
        IndexChecks.ThrowIfAnyColumnOutside(indices, rows);
        if (indices.Length == 0 || columns == 0)
        {
            return;
        }

        fixed (float* gp = gradOutput, tp = gradTable)
        fixed (int* xp = indices)
        {
            long minColumns = Math.Max(16, CpuParallel.MinElementsPerChunk / indices.Length);
            CpuParallel.For(columns, minColumns, threads, new ScatterRowsColumnBlock(gp, xp, indices.Length, tp, columns, skipRow, width));
        }
    }

    // Many rows, few columns (the LSTM input). Each thread streams a contiguous block of gradOutput rows, adding each
    // row with SIMD into row indices[i] of its own accumulator [In, Out] (128 KiB for In = 32, Out = 1024: L2-resident),
    // so gradOutput, 40 MB at N = 9900, is read once and in order. The accumulators are then added, transposed, into
    // gradWeight, parallel over rows o. The row blocks depend only on N and the thread count: deterministic.
    private static void ScatterTransposed(float* gradOutput, int* indices, int n, float* gradWeight, int outFeatures, int inFeatures, int threads, CpuVectorWidth width)
    {
        threads = CpuParallel.Threads(threads);
        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / outFeatures);
        int chunks = (int)Math.Max(1, Math.Min(threads, n / minRows));
        int size = inFeatures * outFeatures;
        var accumulators = ArrayPool<float>.Shared.Rent(chunks * size);
        try
        {
            fixed (float* ap = accumulators)
            {
                CpuParallel.ForItems(chunks, chunks, new ScatterIntoAccumulator(gradOutput, indices, n, ap, chunks, outFeatures, size, width));
                CpuParallel.For(outFeatures, Math.Max(1, 4096 / inFeatures), threads, new AddAccumulators(ap, gradWeight, chunks, outFeatures, inFeatures, size));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(accumulators);
        }
    }

    // Few rows, many columns (the n-gram MLP: N = 100, In ≈ 4700): threads own blocks of rows o and add in place.
    private static void ScatterStrided(float* gradOutput, int* indices, int n, float* gradWeight, int outFeatures, int inFeatures, int threads)
    {
        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / n);
        CpuParallel.For(outFeatures, minRows, threads, new ScatterStridedRows(gradOutput, indices, n, gradWeight, outFeatures, inFeatures));
    }

    // Transposing touches Out·In elements; it pays when rows outnumber the columns they can pick from.
    private static bool UseTransposed(int rows, int inFeatures) => 2L * inFeatures <= rows;

    /// <summary>Output rows [start, start + count) copied from the transposed weight.</summary>
    private readonly struct GatherRowsChunk(float* transposed, int* indices, float* output, int outFeatures) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long i = start; i < start + count; i++)
            {
                new ReadOnlySpan<float>(transposed + ((long)indices[i] * outFeatures), outFeatures)
                    .CopyTo(new Span<float>(output + (i * outFeatures), outFeatures));
            }
        }
    }

    /// <summary>Columns [start, start + count) of every indexed row of the table but <c>skipRow</c>, accumulated in row order.</summary>
    private readonly struct ScatterRowsColumnBlock(float* gradOutput, int* indices, int n, float* gradTable, int columns, int skipRow, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long i = 0; i < n; i++)
            {
                if (indices[i] == skipRow)
                {
                    continue;
                }

                var source = new ReadOnlySpan<float>(gradOutput + (i * columns) + start, (int)count);
                var target = new Span<float>(gradTable + ((long)indices[i] * columns) + start, (int)count);
                CpuElementwise.Binary(target, source, target, default(AddOperator), width);
            }
        }
    }

    /// <summary>Output rows read from strided columns of the weight, plus the bias where there is one (bias null: none).</summary>
    private readonly struct GatherStridedRows(float* weight, int* indices, float* bias, float* output, int outFeatures, int inFeatures) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long i = start; i < start + count; i++)
            {
                float* column = weight + indices[i];
                float* row = output + (i * outFeatures);
                if (bias is null)
                {
                    for (int o = 0; o < outFeatures; o++)
                    {
                        row[o] = column[(long)o * inFeatures];
                    }
                }
                else
                {
                    for (int o = 0; o < outFeatures; o++)
                    {
                        row[o] = column[(long)o * inFeatures] + bias[o];
                    }
                }
            }
        }
    }

    /// <summary>Chunk i of the rows of gradOutput, added into accumulator i [In, Out].</summary>
    private readonly struct ScatterIntoAccumulator(float* gradOutput, int* indices, int n, float* accumulators, int chunks, int outFeatures, int size, CpuVectorWidth width) : IParallelItems
    {
        public void Run(int item)
        {
            var accumulator = new Span<float>(accumulators + ((long)item * size), size);
            accumulator.Clear();
            long start = (long)n * item / chunks;
            long end = (long)n * (item + 1) / chunks;
            for (long i = start; i < end; i++)
            {
                var source = new ReadOnlySpan<float>(gradOutput + (i * outFeatures), outFeatures);
                var target = accumulator.Slice(indices[i] * outFeatures, outFeatures);
                CpuElementwise.Binary(target, source, target, default(AddOperator), width);
            }
        }
    }

    /// <summary>Rows o of gradWeight += the accumulators' column o, in chunk order.</summary>
    private readonly struct AddAccumulators(float* accumulators, float* gradWeight, int chunks, int outFeatures, int inFeatures, int size) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long o = start; o < start + count; o++)
            {
                float* wRow = gradWeight + (o * inFeatures);
                for (int c = 0; c < inFeatures; c++)
                {
                    float sum = wRow[c];
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        sum += accumulators[((long)chunk * size) + ((long)c * outFeatures) + o];
                    }

                    wRow[c] = sum;
                }
            }
        }
    }

    /// <summary>Rows o of gradWeight, each adding its strided gradients in place.</summary>
    private readonly struct ScatterStridedRows(float* gradOutput, int* indices, int n, float* gradWeight, int outFeatures, int inFeatures) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long o = start; o < start + count; o++)
            {
                float* wRow = gradWeight + (o * inFeatures);
                for (long i = 0; i < n; i++)
                {
                    wRow[indices[i]] += gradOutput[(i * outFeatures) + o];
                }
            }
        }
    }
}
