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
    /// <summary>Output columns per block of the scatter's transposed accumulator: 64 floats, four Vector512 registers, per index.</summary>
    private const int ScatterBlock = 64;

    /// <summary>output[i, o] = weight[o, indices[i]] for weight [Out, In], indices [N], output [N, Out]. Throws on an index outside [0, In).</summary>
    public static void GatherColumns(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<int> indices, Span<float> output, ParallelOptions parallelism)
    {
        int n = indices.Length;
        CheckIndices(indices, inFeatures);
        if (n == 0 || outFeatures == 0)
        {
            return;
        }

        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / outFeatures);
        fixed (float* wf = weight, of = output)
        fixed (int* xf = indices)
        {
            float* wp = wf, op = of;
            int* xp = xf;
            if (UseTransposed(n, inFeatures))
            {
                // weightT [In, Out]: row c is column c of the weight, so each output row is one contiguous copy.
                var transposed = ArrayPool<float>.Shared.Rent(inFeatures * outFeatures);
                try
                {
                    Transpose(weight, outFeatures, inFeatures, transposed);
                    fixed (float* tf = transposed)
                    {
                        float* tp = tf;
                        CpuParallel.For(n, minRows, parallelism, (start, count) =>
                        {
                            for (long i = start; i < start + count; i++)
                            {
                                new ReadOnlySpan<float>(tp + ((long)xp[i] * outFeatures), outFeatures)
                                    .CopyTo(new Span<float>(op + (i * outFeatures), outFeatures));
                            }
                        });
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(transposed);
                }
            }
            else
            {
                CpuParallel.For(n, minRows, parallelism, (start, count) =>
                {
                    for (long i = start; i < start + count; i++)
                    {
                        float* column = wp + xp[i];
                        float* row = op + (i * outFeatures);
                        for (int o = 0; o < outFeatures; o++)
                        {
                            row[o] = column[(long)o * inFeatures];
                        }
                    }
                });
            }
        }
    }

    /// <summary>
    /// gradWeight[o, indices[i]] += gradOutput[i, o] for gradOutput [N, Out], gradWeight [Out, In]. Threads own
    /// disjoint blocks of rows o, so they never write the same element. Throws on an index outside [0, In).
    /// </summary>
    public static void ScatterAddColumns(ReadOnlySpan<float> gradOutput, ReadOnlySpan<int> indices, Span<float> gradWeight, int outFeatures, int inFeatures, ParallelOptions parallelism)
    {
        int n = indices.Length;
        CheckIndices(indices, inFeatures);
        if (n == 0 || outFeatures == 0)
        {
            return;
        }

        int blocks = (outFeatures + ScatterBlock - 1) / ScatterBlock;
        fixed (float* gf = gradOutput, wf = gradWeight)
        fixed (int* xf = indices)
        {
            float* gp = gf, wp = wf;
            int* xp = xf;
            bool transposed = UseTransposed(n, inFeatures);
            Parallel.For(0, blocks, parallelism, block =>
            {
                int o0 = block * ScatterBlock;
                int width = Math.Min(ScatterBlock, outFeatures - o0);
                if (transposed)
                {
                    ScatterBlockTransposed(gp, xp, n, wp, outFeatures, inFeatures, o0, width);
                }
                else
                {
                    for (int o = o0; o < o0 + width; o++)
                    {
                        float* wRow = wp + ((long)o * inFeatures);
                        for (long i = 0; i < n; i++)
                        {
                            wRow[xp[i]] += gp[(i * outFeatures) + o];
                        }
                    }
                }
            });
        }
    }

    // Accumulates rows o0..o0+width into a small [In, width] tile, where each gradOutput row segment adds as one
    // contiguous SIMD run to the tile row of its index, then adds the tile into the strided weight once.
    private static void ScatterBlockTransposed(float* gradOutput, int* indices, int n, float* gradWeight, int outFeatures, int inFeatures, int o0, int width)
    {
        var tile = ArrayPool<float>.Shared.Rent(inFeatures * width);
        try
        {
            Array.Clear(tile, 0, inFeatures * width);
            for (long i = 0; i < n; i++)
            {
                var source = new ReadOnlySpan<float>(gradOutput + (i * outFeatures) + o0, width);
                var target = new Span<float>(tile, indices[i] * width, width);
                CpuElementwise.Binary(target, source, target, default(AddOperator));
            }

            for (int o = 0; o < width; o++)
            {
                float* wRow = gradWeight + ((long)(o0 + o) * inFeatures);
                for (int c = 0; c < inFeatures; c++)
                {
                    wRow[c] += tile[(c * width) + o];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tile);
        }
    }

    // Transposing touches Out·In elements; it pays when rows outnumber the columns they can pick from.
    private static bool UseTransposed(int rows, int inFeatures) => 2L * inFeatures <= rows;

    private static void Transpose(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, Span<float> transposed)
    {
        const int Tile = 32;
        for (int o0 = 0; o0 < outFeatures; o0 += Tile)
        {
            for (int c0 = 0; c0 < inFeatures; c0 += Tile)
            {
                int oEnd = Math.Min(o0 + Tile, outFeatures);
                int cEnd = Math.Min(c0 + Tile, inFeatures);
                for (int o = o0; o < oEnd; o++)
                {
                    for (int c = c0; c < cEnd; c++)
                    {
                        transposed[(c * outFeatures) + o] = weight[(o * inFeatures) + c];
                    }
                }
            }
        }
    }

    private static void CheckIndices(ReadOnlySpan<int> indices, int inFeatures)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)inFeatures)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index {indices[i]} at position {i} is outside [0, {inFeatures}).");
            }
        }
    }
}
