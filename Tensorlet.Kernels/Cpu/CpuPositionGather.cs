namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The gather of positions (output[r, p] = input[r, map[p]], one map for every row) and its backward in plain C#, over
/// blocks of rows, so no two threads write the same element. The backward reads the map's inverse
/// (<see cref="PositionGatherInverse"/>): each input-gradient element sums its own copies in increasing order of p, as the
/// ILGPU kernel does, so both give the same floats, with no atomics. Both are memory-bound copies (the backward adds a
/// handful of values per element) through an index, with no contiguous run for vectors to take, so the loops are left
/// to the JIT.
/// </summary>
internal static unsafe class CpuPositionGather
{
    /// <summary>
    /// output [rows, P] = input [rows, L] gathered through map [P]: output[r, p] = input[r, map[p]]. Throws on a map value
    /// outside [0, L) or lengths that do not match, before writing.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<int> map, Span<float> output, int rows, int length, int threads)
    {
        CheckLengths(input.Length, output.Length, rows, length, map.Length);
        IndexChecks.ThrowIfAnyColumnOutside(map, length);
        if (output.IsEmpty)
        {
            return;
        }

        fixed (float* xp = input, yp = output)
        fixed (int* mp = map)
        {
            CpuParallel.For(rows, RowsPerChunk(length, map.Length), threads, new GatherRows(xp, mp, yp, length, map.Length));
        }
    }

    /// <summary>
    /// gradInput [rows, L] from gradOutput [rows, P] through the map's inverse, starts [L + 1] and copies [P]:
    /// gradInput[r, l] = Σ over i in [starts[l], starts[l + 1]) of gradOutput[r, copies[i]], in order of i; 0 for none.
    /// Throws on a start outside [0, P], a copy outside [0, P) or lengths that do not match, before writing.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<int> starts, ReadOnlySpan<int> copies, Span<float> gradInput, int rows, int length, int threads)
    {
        CheckLengths(gradInput.Length, gradOutput.Length, rows, length, copies.Length);
        if (starts.Length != length + 1)
        {
            throw new ArgumentException($"PositionGather: {starts.Length} starts for {length} input positions; need {length + 1}.", nameof(starts));
        }

        IndexChecks.ThrowIfAnyColumnOutside(starts, copies.Length + 1);
        IndexChecks.ThrowIfAnyColumnOutside(copies, copies.Length);
        if (gradInput.IsEmpty)
        {
            return;
        }

        fixed (float* dyp = gradOutput, dxp = gradInput)
        fixed (int* sp = starts, cp = copies)
        {
            CpuParallel.For(rows, RowsPerChunk(length, copies.Length), threads, new SumCopiesRows(dyp, sp, cp, dxp, length, copies.Length));
        }
    }

    private static long RowsPerChunk(int length, int paddedLength) => Math.Max(1, CpuParallel.MinElementsPerChunk / Math.Max(1, (long)length + paddedLength));

    private static void CheckLengths(int inputLength, int outputLength, int rows, int length, int paddedLength)
    {
        if (rows < 0 || inputLength != (long)rows * length || outputLength != (long)rows * paddedLength)
        {
            throw new ArgumentException($"PositionGather: the input has {inputLength} elements and the output {outputLength}; {rows} rows of {length} gathered to {paddedLength} need {(long)rows * length} and {(long)rows * paddedLength}.");
        }
    }

    /// <summary>Rows [start, start + count) of the output.</summary>
    private readonly struct GatherRows(float* input, int* map, float* output, int length, int paddedLength) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long row = start; row < start + count; row++)
            {
                float* source = input + (row * length);
                float* target = output + (row * paddedLength);
                for (int p = 0; p < paddedLength; p++)
                {
                    target[p] = source[map[p]];
                }
            }
        }
    }

    /// <summary>Rows [start, start + count) of the input gradient, each element the sum of its copies in order.</summary>
    private readonly struct SumCopiesRows(float* gradOutput, int* starts, int* copies, float* gradInput, int length, int paddedLength) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long row = start; row < start + count; row++)
            {
                float* source = gradOutput + (row * paddedLength);
                float* target = gradInput + (row * length);
                for (int l = 0; l < length; l++)
                {
                    float sum = 0f;
                    for (int i = starts[l], end = starts[l + 1]; i < end; i++)
                    {
                        sum += source[copies[i]];
                    }

                    target[l] = sum;
                }
            }
        }
    }
}
