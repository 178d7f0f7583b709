using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// <see cref="Philox.Generate"/> on 8 (Vector512), 4 (Vector256) or 2 (Vector128) blocks at once, each 32-bit word held
/// in a 64-bit lane so that the 32×32→64-bit products of the rounds are plain lane multiplies. Bit-identical to the
/// scalar version.
/// </summary>
internal static class PhiloxVector
{
    private const ulong Low32 = 0xFFFF_FFFF;

    /// <summary>The words of blocks (c0[j], c1[j], c2[j], c3[j]) under key (k0, k1), per lane j, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate(ref Vector512<ulong> c0, ref Vector512<ulong> c1, ref Vector512<ulong> c2, ref Vector512<ulong> c3, uint k0, uint k1)
    {
        var m0 = Vector512.Create((ulong)Philox.Multiplier0);
        var m1 = Vector512.Create((ulong)Philox.Multiplier1);
        var low = Vector512.Create(Low32);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Philox.Weyl0;
                k1 += Philox.Weyl1;
            }

            var product0 = Multiply(c0, m0);
            var product1 = Multiply(c2, m1);
            var next0 = (product1 >> 32) ^ c1 ^ Vector512.Create((ulong)k0);
            var next2 = (product0 >> 32) ^ c3 ^ Vector512.Create((ulong)k1);
            c1 = product1 & low;
            c3 = product0 & low;
            c0 = next0;
            c2 = next2;
        }
    }

    /// <summary>The words of blocks (c0[j], c1[j], c2[j], c3[j]) under key (k0, k1), per lane j, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate(ref Vector256<ulong> c0, ref Vector256<ulong> c1, ref Vector256<ulong> c2, ref Vector256<ulong> c3, uint k0, uint k1)
    {
        var m0 = Vector256.Create((ulong)Philox.Multiplier0);
        var m1 = Vector256.Create((ulong)Philox.Multiplier1);
        var low = Vector256.Create(Low32);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Philox.Weyl0;
                k1 += Philox.Weyl1;
            }

            var product0 = Multiply(c0, m0);
            var product1 = Multiply(c2, m1);
            var next0 = (product1 >> 32) ^ c1 ^ Vector256.Create((ulong)k0);
            var next2 = (product0 >> 32) ^ c3 ^ Vector256.Create((ulong)k1);
            c1 = product1 & low;
            c3 = product0 & low;
            c0 = next0;
            c2 = next2;
        }
    }

    /// <summary>The words of blocks (c0[j], c1[j], c2[j], c3[j]) under key (k0, k1), per lane j, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate(ref Vector128<ulong> c0, ref Vector128<ulong> c1, ref Vector128<ulong> c2, ref Vector128<ulong> c3, uint k0, uint k1)
    {
        var m0 = Vector128.Create((ulong)Philox.Multiplier0);
        var m1 = Vector128.Create((ulong)Philox.Multiplier1);
        var low = Vector128.Create(Low32);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Philox.Weyl0;
                k1 += Philox.Weyl1;
            }

            var product0 = Multiply(c0, m0);
            var product1 = Multiply(c2, m1);
            var next0 = (product1 >> 32) ^ c1 ^ Vector128.Create((ulong)k0);
            var next2 = (product0 >> 32) ^ c3 ^ Vector128.Create((ulong)k1);
            c1 = product1 & low;
            c3 = product0 & low;
            c0 = next0;
            c2 = next2;
        }
    }

    // Lanes hold values below 2^32, so the full 64-bit product is the 32×32→64 product: vpmuludq (one µop) where
    // available, rather than the general 64-bit lane multiply (vpmullq, three µops).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Multiply(Vector512<ulong> a, Vector512<ulong> b)
        => Avx512F.IsSupported ? Avx512F.Multiply(a.AsUInt32(), b.AsUInt32()) : a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Multiply(Vector256<ulong> a, Vector256<ulong> b)
        => Avx2.IsSupported ? Avx2.Multiply(a.AsUInt32(), b.AsUInt32()) : a * b;

    // pmuludq on x86; on ARM64, which has no 64-bit lane multiply, narrow the lanes to 32 bits and widen-multiply (umull).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Multiply(Vector128<ulong> a, Vector128<ulong> b)
        => Sse2.IsSupported ? Sse2.Multiply(a.AsUInt32(), b.AsUInt32())
            : AdvSimd.IsSupported ? AdvSimd.MultiplyWideningLower(AdvSimd.ExtractNarrowingLower(a), AdvSimd.ExtractNarrowingLower(b))
            : a * b;
}
