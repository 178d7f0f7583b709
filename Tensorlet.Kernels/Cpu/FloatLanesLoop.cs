using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The widest-first loop behind the fused CPU kernels (TensorPrimitives style): whole registers of Vector512 while
/// they fit, then Vector256, then Vector128, each only where it is accelerated and no wider than the width asked for,
/// then single floats for the tail. Each kernel writes its body once, generic over <see cref="IFloatLanes{TVector}"/>,
/// in an <see cref="IFloatLanesSweep"/>. IsAccelerated is a JIT-time constant, so the widths a machine lacks compile away.
/// </summary>
internal static class FloatLanesLoop
{
    /// <summary>Runs <paramref name="sweep"/> over elements [0, n), at most <paramref name="width"/> wide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TSweep>(TSweep sweep, int n, CpuVectorWidth width)
        where TSweep : struct, IFloatLanesSweep
    {
        int i = 0;
        if (width >= CpuVectorWidth.Vector512 && FloatLanes512.IsAccelerated)
        {
            i = sweep.Run<FloatLanes512, Vector512<float>>(i, n);
        }

        if (width >= CpuVectorWidth.Vector256 && FloatLanes256.IsAccelerated)
        {
            i = sweep.Run<FloatLanes256, Vector256<float>>(i, n);
        }

        if (width >= CpuVectorWidth.Vector128 && FloatLanes128.IsAccelerated)
        {
            i = sweep.Run<FloatLanes128, Vector128<float>>(i, n);
        }

        sweep.Run<FloatLanes1, float>(i, n);
    }
}
