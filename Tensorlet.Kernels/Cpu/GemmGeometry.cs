using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>Which register-blocked microkernel a GEMM runs; it fixes the packed layouts (MR, NR).</summary>
internal enum GemmKernelKind
{
    /// <summary>8 rows × 32 columns, 16 Vector512 accumulators (AVX-512 has 32 registers).</summary>
    Vector512,

    /// <summary>6 rows × 16 columns, 12 Vector256 accumulators (AVX2 has 16 registers).</summary>
    Vector256,

    /// <summary>4 × 4 plain floats, for hardware without wide vectors or FMA.</summary>
    Scalar,
}

/// <summary>
/// The blocking of one microkernel kind: MR rows of packed A by NR columns (a "sliver") of packed B,
/// K blocked at <see cref="KcMax"/> so a B sliver (KC·NR floats, 32 KiB for Vector512) stays in L1
/// while the MR-row panels of A stream past it from L2.
/// </summary>
internal readonly record struct GemmGeometry(GemmKernelKind Kind, int Mr, int Nr)
{
    /// <summary>The K block: 256 keeps a Vector512 B sliver at 32 KiB of the 48 KiB L1.</summary>
    public const int KcMax = 256;

    /// <summary>Rows of A packed per block (before rounding to MR): 256·256·4 B = 256 KiB of the 2 MiB L2; fewer passes over B than 128 (measured better on K = 9900).</summary>
    public const int McTarget = 256;

    /// <summary>Testing switch: when set, the Vector256 kernel is used even where Vector512 is accelerated.</summary>
    internal static bool ForceVector256 { get; set; }

    /// <summary>Testing switch: when set, the scalar kernel is used.</summary>
    internal static bool ForceScalar { get; set; }

    /// <summary>The best kernel this machine runs (respecting the testing switches).</summary>
    public static GemmGeometry Best
    {
        get
        {
            if (!ForceScalar && !ForceVector256 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                return new(GemmKernelKind.Vector512, 8, 32);
            }

            if (!ForceScalar && Vector256.IsHardwareAccelerated && Fma.IsSupported)
            {
                return new(GemmKernelKind.Vector256, 6, 16);
            }

            return new(GemmKernelKind.Scalar, 4, 4);
        }
    }

    /// <summary>Rows per A block: <see cref="McTarget"/> rounded down to a multiple of MR.</summary>
    public int Mc => McTarget / Mr * Mr;

    /// <summary>The K block actually used: K split into equal blocks of at most <see cref="KcMax"/>, so no block is a sliver-thin tail.</summary>
    public static int KcFor(int k)
    {
        int blocks = Math.Max(1, (k + KcMax - 1) / KcMax);
        return Math.Max(1, (k + blocks - 1) / blocks);
    }
}
