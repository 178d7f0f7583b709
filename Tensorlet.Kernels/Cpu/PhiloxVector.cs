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
        => Generate<Vector512<ulong>, Lanes512>(ref c0, ref c1, ref c2, ref c3, k0, k1);

    /// <summary>The words of blocks (c0[j], c1[j], c2[j], c3[j]) under key (k0, k1), per lane j, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate(ref Vector256<ulong> c0, ref Vector256<ulong> c1, ref Vector256<ulong> c2, ref Vector256<ulong> c3, uint k0, uint k1)
        => Generate<Vector256<ulong>, Lanes256>(ref c0, ref c1, ref c2, ref c3, k0, k1);

    /// <summary>The words of blocks (c0[j], c1[j], c2[j], c3[j]) under key (k0, k1), per lane j, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Generate(ref Vector128<ulong> c0, ref Vector128<ulong> c1, ref Vector128<ulong> c2, ref Vector128<ulong> c3, uint k0, uint k1)
        => Generate<Vector128<ulong>, Lanes128>(ref c0, ref c1, ref c2, ref c3, k0, k1);

    /// <summary>The ten Philox-4x32 rounds of <see cref="Philox.Generate"/>, once, for every register width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Generate<TVector, TLanes>(ref TVector c0, ref TVector c1, ref TVector c2, ref TVector c3, uint k0, uint k1)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        var m0 = TLanes.Create(Philox.Multiplier0);
        var m1 = TLanes.Create(Philox.Multiplier1);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Philox.Weyl0;
                k1 += Philox.Weyl1;
            }

            var product0 = TLanes.Multiply(c0, m0);
            var product1 = TLanes.Multiply(c2, m1);
            var next0 = TLanes.HighXor(product1, c1, TLanes.Create(k0));
            var next2 = TLanes.HighXor(product0, c3, TLanes.Create(k1));
            c1 = TLanes.Low(product1);
            c3 = TLanes.Low(product0);
            c0 = next0;
            c2 = next2;
        }
    }

    /// <summary>What a round needs of one register width, on 64-bit lanes that hold 32-bit words.</summary>
    private interface ILanes<TVector>
    {
        /// <summary>Every lane set to <paramref name="word"/>.</summary>
        static abstract TVector Create(uint word);

        /// <summary>The 32×32→64-bit products of the lanes (all below 2^32).</summary>
        static abstract TVector Multiply(TVector a, TVector b);

        /// <summary>(product &gt;&gt; 32) ^ c ^ key, per lane.</summary>
        static abstract TVector HighXor(TVector product, TVector c, TVector key);

        /// <summary>The low 32 bits of each lane.</summary>
        static abstract TVector Low(TVector product);
    }

    // Lanes hold values below 2^32, so the full 64-bit product is the 32×32→64 product: vpmuludq (one µop) where
    // available, rather than the general 64-bit lane multiply (vpmullq, three µops).
    private readonly struct Lanes512 : ILanes<Vector512<ulong>>
    {
        public static Vector512<ulong> Create(uint word) => Vector512.Create((ulong)word);

        public static Vector512<ulong> Multiply(Vector512<ulong> a, Vector512<ulong> b)
            => Avx512F.IsSupported ? Avx512F.Multiply(a.AsUInt32(), b.AsUInt32()) : a * b;

        public static Vector512<ulong> HighXor(Vector512<ulong> product, Vector512<ulong> c, Vector512<ulong> key) => (product >> 32) ^ c ^ key;

        public static Vector512<ulong> Low(Vector512<ulong> product) => product & Vector512.Create(Low32);
    }

    private readonly struct Lanes256 : ILanes<Vector256<ulong>>
    {
        public static Vector256<ulong> Create(uint word) => Vector256.Create((ulong)word);

        public static Vector256<ulong> Multiply(Vector256<ulong> a, Vector256<ulong> b)
            => Avx2.IsSupported ? Avx2.Multiply(a.AsUInt32(), b.AsUInt32()) : a * b;

        public static Vector256<ulong> HighXor(Vector256<ulong> product, Vector256<ulong> c, Vector256<ulong> key) => (product >> 32) ^ c ^ key;

        public static Vector256<ulong> Low(Vector256<ulong> product) => product & Vector256.Create(Low32);
    }

    // pmuludq on x86; on ARM64, which has no 64-bit lane multiply, narrow the lanes to 32 bits and widen-multiply (umull).
    private readonly struct Lanes128 : ILanes<Vector128<ulong>>
    {
        public static Vector128<ulong> Create(uint word) => Vector128.Create((ulong)word);

        public static Vector128<ulong> Multiply(Vector128<ulong> a, Vector128<ulong> b)
            => Sse2.IsSupported ? Sse2.Multiply(a.AsUInt32(), b.AsUInt32())
                : AdvSimd.IsSupported ? AdvSimd.MultiplyWideningLower(AdvSimd.ExtractNarrowingLower(a), AdvSimd.ExtractNarrowingLower(b))
                : a * b;

        public static Vector128<ulong> HighXor(Vector128<ulong> product, Vector128<ulong> c, Vector128<ulong> key) => (product >> 32) ^ c ^ key;

        public static Vector128<ulong> Low(Vector128<ulong> product) => product & Vector128.Create(Low32);
    }

}
