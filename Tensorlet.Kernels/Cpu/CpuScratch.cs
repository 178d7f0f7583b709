namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Scratch memory for the CPU kernels. Packed operands start on a 64-byte boundary, so that a Vector512 load never
/// splits a cache line: a buffer is made <see cref="Slack"/> floats longer than its contents, and the contents start
/// at <see cref="Align"/> of its first element.
/// </summary>
internal static unsafe class CpuScratch
{
    /// <summary>The floats a buffer needs beyond its contents so that they can start 64-byte aligned inside it.</summary>
    public const int Slack = 16;

    /// <summary>
    /// A pinned buffer of at least <paramref name="floats"/> plus <see cref="Slack"/>, kept in the caller's (per-thread)
    /// field and grown on demand, so steady-state calls allocate nothing.
    /// </summary>
    public static float[] Pinned(ref float[]? buffer, int floats)
    {
        if (buffer is null || buffer.Length < floats + Slack)
        {
            buffer = GC.AllocateUninitializedArray<float>(floats + Slack, pinned: true);
        }

        return buffer;
    }

    /// <summary>The first 64-byte boundary at or after <paramref name="pointer"/>.</summary>
    public static float* Align(float* pointer) => (float*)(((nint)pointer + 63) & ~(nint)63);
}
