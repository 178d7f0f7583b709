using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The transposition of a [rows, columns] matrix into [columns, rows], in tiles of <see cref="Tile"/> × Tile so both
/// sides are touched a few cache lines at a time rather than one element per line, each tile row one target line
/// written whole: with a zero added to each value (<see cref="Matrix"/>), or bit for bit (<see cref="Bits"/>, which the
/// poolings run their blocks of planes through).
/// </summary>
internal static unsafe class CpuTranspose
{
    private const int Tile = 16;

    /// <summary>
    /// target[c, r] = <paramref name="zero"/> + source[r, c]: with −0 a copy of every value, −0 included; with +0 a
    /// fold's sum of one term, which turns −0 into +0.
    /// </summary>
    public static void Matrix(float* source, int rows, int columns, float* target, float zero = -0f)
        => Run(source, rows, columns, target, new PlusZero(zero));

    /// <summary>target[c, r] = source[r, c], bit for bit: nothing is computed, so ints stored in the floats keep their bits.</summary>
    public static void Bits(float* source, int rows, int columns, float* target)
        => Run(source, rows, columns, target, default(AsBits));

    /// <summary>
    /// The one walk both take: whole 8 × 8 squares through AVX where there is one, four to a tile, each loaded row
    /// passed through <typeparamref name="TPassage"/>; the rest element by element through it.
    /// </summary>
    private static void Run<TPassage>(float* source, int rows, int columns, float* target, TPassage passage)
        where TPassage : struct, IPassage
    {
        int r8 = Avx.IsSupported ? rows / 8 * 8 : 0, c8 = columns / 8 * 8;
        for (int r0 = 0; r0 < r8; r0 += Tile)
        {
            int r1 = Math.Min(r8, r0 + Tile);
            for (int c0 = 0; c0 < c8; c0 += Tile)
            {
                int c1 = Math.Min(c8, c0 + Tile);
                for (int r = r0; r < r1; r += 8)
                {
                    for (int c = c0; c < c1; c += 8)
                    {
                        float* src = source + ((long)r * columns) + c;
                        Store8(
                            passage.Load(src),
                            passage.Load(src + columns),
                            passage.Load(src + (2L * columns)),
                            passage.Load(src + (3L * columns)),
                            passage.Load(src + (4L * columns)),
                            passage.Load(src + (5L * columns)),
                            passage.Load(src + (6L * columns)),
                            passage.Load(src + (7L * columns)),
                            target + ((long)c * rows) + r,
                            rows);
                    }
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = r < r8 ? c8 : 0; c < columns; c++)
            {
                passage.Copy(source + ((long)r * columns) + c, target + ((long)c * rows) + r);
            }
        }
    }

    /// <summary>dst[c·dstStride + r] = src[r·srcStride + c] for an 8 × 8 square: unpack, shuffle, then swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Square8(float* src, long srcStride, float* dst, long dstStride)
        => Store8(
            Avx.LoadVector256(src),
            Avx.LoadVector256(src + srcStride),
            Avx.LoadVector256(src + (2 * srcStride)),
            Avx.LoadVector256(src + (3 * srcStride)),
            Avx.LoadVector256(src + (4 * srcStride)),
            Avx.LoadVector256(src + (5 * srcStride)),
            Avx.LoadVector256(src + (6 * srcStride)),
            Avx.LoadVector256(src + (7 * srcStride)),
            dst,
            dstStride);

    /// <summary>Rows r0 … r7 of an 8 × 8 square stored transposed: dst[c·dstStride + r] = r_r[c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long dstStride)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + (2 * dstStride), Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + (3 * dstStride), Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + (4 * dstStride), Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + (5 * dstStride), Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + (6 * dstStride), Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + (7 * dstStride), Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>What a value goes through on its way from source to target: a row of eight as loaded, or one alone.</summary>
    private interface IPassage
    {
        Vector256<float> Load(float* row);

        void Copy(float* from, float* to);
    }

    /// <summary>zero + value.</summary>
    private readonly struct PlusZero(float zero) : IPassage
    {
        private readonly Vector256<float> addend = Vector256.Create(zero);

        public Vector256<float> Load(float* row) => Avx.Add(addend, Avx.LoadVector256(row));

        public void Copy(float* from, float* to) => *to = zero + *from;
    }

    /// <summary>The value's bits, copied as an int so a NaN's payload is kept.</summary>
    private readonly struct AsBits : IPassage
    {
        public Vector256<float> Load(float* row) => Avx.LoadVector256(row);

        public void Copy(float* from, float* to) => *(uint*)to = *(uint*)from;
    }
}
