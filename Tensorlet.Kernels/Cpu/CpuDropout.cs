using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Inverted dropout on the CPU with the Philox mask shared by every device: element e keeps its value when its word
/// (<see cref="Philox.BlockOfElement"/>, <see cref="Philox.WordOfElement"/>) of stream (seed, stream), as a uniform in
/// [0, 1), is ≥ p. A group of 32 elements is 8 blocks, drawn together with <see cref="PhiloxVector"/> at the widest
/// accelerated width up to the one asked for (Vector128 on ARM64); every width draws the same bits.
/// </summary>
internal static unsafe class CpuDropout
{
    /// <summary>y = x·(keep ? scale : 0) with scale = <see cref="DropoutMask.KeepScale"/>(p); y may be x. p = 0 copies.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, float p, ulong seed, ulong stream, int threads, CpuVectorWidth width)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        if (p == 0f)
        {
            CpuMemory.Copy(x, y, threads);
            return;
        }

        float scale = DropoutMask.KeepScale(p);
        long length = x.Length;
        long groups = (length + Philox.ElementsPerGroup - 1) / Philox.ElementsPerGroup;
        fixed (float* xp = x, yp = y)
        {
            CpuParallel.For(groups, CpuParallel.MinElementsPerChunk / Philox.ElementsPerGroup, threads, new GroupChunk(xp, yp, length, p, scale, seed, stream, width));
        }
    }

    /// <summary>
    /// <see cref="Apply"/> over elements [<paramref name="first"/>, <paramref name="end"/>) of a tensor only, on the calling
    /// thread: <paramref name="x"/> and <paramref name="y"/> point at element 0, and each element gets the factor it gets
    /// in the whole tensor's mask. y may be x. p = 0 copies.
    /// </summary>
    public static void ApplyRange(float* x, float* y, long first, long end, float p, ulong seed, ulong stream, CpuVectorWidth width)
    {
        if (p == 0f)
        {
            if (x != y)
            {
                new ReadOnlySpan<float>(x + first, checked((int)(end - first))).CopyTo(new Span<float>(y + first, (int)(end - first)));
            }

            return;
        }

        float scale = DropoutMask.KeepScale(p);
        for (long g = first / Philox.ElementsPerGroup; g * Philox.ElementsPerGroup < end; g++)
        {
            long e = g * Philox.ElementsPerGroup;
            if (e >= first && e + Philox.ElementsPerGroup <= end)
            {
                FullGroup(x + e, y + e, (ulong)g, p, scale, seed, stream, width);
            }
            else
            {
                PartialGroup(x, y, first, end, (ulong)g, p, scale, seed, stream);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FullGroup(float* x, float* y, ulong group, float p, float scale, ulong seed, ulong stream, CpuVectorWidth width)
    {
        ulong firstBlock = group * 8;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        if (width >= CpuVectorWidth.Vector512 && Vector512.IsHardwareAccelerated)
        {
            // Blocks firstBlock..firstBlock+7 never straddle a 2^32 boundary, since firstBlock is a multiple of 8.
            var c0 = Vector512.Create((ulong)(uint)firstBlock) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            var c1 = Vector512.Create((ulong)(uint)(firstBlock >> 32));
            var c2 = Vector512.Create((ulong)(uint)stream);
            var c3 = Vector512.Create((ulong)(uint)(stream >> 32));
            PhiloxVector.Generate(ref c0, ref c1, ref c2, ref c3, k0, k1);

            // Narrow puts word w of blocks 0..7 then word w + 1: elements 0..15 of the group, then 16..31.
            Apply16(x, y, Vector512.Narrow(c0, c1), p, scale);
            Apply16(x + 16, y + 16, Vector512.Narrow(c2, c3), p, scale);
        }
        else if (width >= CpuVectorWidth.Vector256 && Vector256.IsHardwareAccelerated)
        {
            var c0a = Vector256.Create((ulong)(uint)firstBlock) + Vector256.Create(0UL, 1, 2, 3);
            var c0b = Vector256.Create((ulong)(uint)firstBlock) + Vector256.Create(4UL, 5, 6, 7);
            var c1a = Vector256.Create((ulong)(uint)(firstBlock >> 32));
            var c1b = c1a;
            var c2a = Vector256.Create((ulong)(uint)stream);
            var c2b = c2a;
            var c3a = Vector256.Create((ulong)(uint)(stream >> 32));
            var c3b = c3a;
            PhiloxVector.Generate(ref c0a, ref c1a, ref c2a, ref c3a, k0, k1);
            PhiloxVector.Generate(ref c0b, ref c1b, ref c2b, ref c3b, k0, k1);
            Apply8(x, y, Vector256.Narrow(c0a, c0b), p, scale);
            Apply8(x + 8, y + 8, Vector256.Narrow(c1a, c1b), p, scale);
            Apply8(x + 16, y + 16, Vector256.Narrow(c2a, c2b), p, scale);
            Apply8(x + 24, y + 24, Vector256.Narrow(c3a, c3b), p, scale);
        }
        else if (width >= CpuVectorWidth.Vector128 && Vector128.IsHardwareAccelerated)
        {
            // Blocks 4·half .. 4·half + 3 in two pairs; each Narrow is one word of four blocks: elements 4·half + 8·word + 0..3.
            for (int half = 0; half < 2; half++)
            {
                var c0a = Vector128.Create((ulong)(uint)firstBlock + (ulong)(4 * half)) + Vector128.Create(0UL, 1);
                var c0b = Vector128.Create((ulong)(uint)firstBlock + (ulong)(4 * half)) + Vector128.Create(2UL, 3);
                var c1a = Vector128.Create((ulong)(uint)(firstBlock >> 32));
                var c1b = c1a;
                var c2a = Vector128.Create((ulong)(uint)stream);
                var c2b = c2a;
                var c3a = Vector128.Create((ulong)(uint)(stream >> 32));
                var c3b = c3a;
                PhiloxVector.Generate(ref c0a, ref c1a, ref c2a, ref c3a, k0, k1);
                PhiloxVector.Generate(ref c0b, ref c1b, ref c2b, ref c3b, k0, k1);
                int e = 4 * half;
                Apply4(x + e, y + e, Vector128.Narrow(c0a, c0b), p, scale);
                Apply4(x + 8 + e, y + 8 + e, Vector128.Narrow(c1a, c1b), p, scale);
                Apply4(x + 16 + e, y + 16 + e, Vector128.Narrow(c2a, c2b), p, scale);
                Apply4(x + 24 + e, y + 24 + e, Vector128.Narrow(c3a, c3b), p, scale);
            }
        }
        else
        {
            for (int j = 0; j < 8; j++)
            {
                var bits = Philox.Block(seed, stream, firstBlock + (ulong)j);
                y[j] = x[j] * DropoutMask.Factor(bits.X0, p, scale);
                y[8 + j] = x[8 + j] * DropoutMask.Factor(bits.X1, p, scale);
                y[16 + j] = x[16 + j] * DropoutMask.Factor(bits.X2, p, scale);
                y[24 + j] = x[24 + j] * DropoutMask.Factor(bits.X3, p, scale);
            }
        }
    }

    /// <summary>The elements of one group that lie in [<paramref name="first"/>, <paramref name="end"/>).</summary>
    private static void PartialGroup(float* x, float* y, long first, long end, ulong group, float p, float scale, ulong seed, ulong stream)
    {
        for (int j = 0; j < 8; j++)
        {
            ulong block = (group * 8) + (ulong)j;
            var bits = Philox.Block(seed, stream, block);
            for (int word = 0; word < 4; word++)
            {
                long e = (long)Philox.ElementOf(block, word);
                if (e >= first && e < end)
                {
                    y[e] = x[e] * DropoutMask.Factor(bits[word], p, scale);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply16(float* x, float* y, Vector512<uint> bits, float p, float scale)
    {
        // (bits >> 8) < 2^24 converts to float exactly, as in Philox.ToUniform.
        var u = Vector512.ConvertToSingle((bits >> 8).AsInt32()) * Vector512.Create(1f / 16777216f);
        var factor = Vector512.GreaterThanOrEqual(u, Vector512.Create(p)) & Vector512.Create(scale);
        (Vector512.Load(x) * factor).Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply8(float* x, float* y, Vector256<uint> bits, float p, float scale)
    {
        var u = Vector256.ConvertToSingle((bits >> 8).AsInt32()) * Vector256.Create(1f / 16777216f);
        var factor = Vector256.GreaterThanOrEqual(u, Vector256.Create(p)) & Vector256.Create(scale);
        (Vector256.Load(x) * factor).Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply4(float* x, float* y, Vector128<uint> bits, float p, float scale)
    {
        var u = Vector128.ConvertToSingle((bits >> 8).AsInt32()) * Vector128.Create(1f / 16777216f);
        var factor = Vector128.GreaterThanOrEqual(u, Vector128.Create(p)) & Vector128.Create(scale);
        (Vector128.Load(x) * factor).Store(y);
    }

    /// <summary>One thread's groups of 32 elements.</summary>
    private readonly struct GroupChunk(float* x, float* y, long length, float p, float scale, ulong seed, ulong stream, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long g = start; g < start + count; g++)
            {
                long e = g * Philox.ElementsPerGroup;
                if (e + Philox.ElementsPerGroup <= length)
                {
                    FullGroup(x + e, y + e, (ulong)g, p, scale, seed, stream, width);
                }
                else
                {
                    PartialGroup(x, y, 0, length, (ulong)g, p, scale, seed, stream);
                }
            }
        }
    }
}
