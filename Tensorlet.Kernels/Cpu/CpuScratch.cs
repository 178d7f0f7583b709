using System.Buffers;

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

    /// <summary>
    /// Rents <paramref name="floats"/> floats from the shared pool, pinned and 64-byte aligned, for one call's scratch;
    /// dispose it to unpin and return them. A pooled buffer, not fresh native memory, which would page-fault on every call.
    /// </summary>
    public static Rental Rent(long floats) => new(checked((int)floats + Slack));

    /// <summary>The first 64-byte boundary at or after <paramref name="pointer"/>.</summary>
    public static float* Align(float* pointer) => (float*)(((nint)pointer + 63) & ~(nint)63);

    /// <summary>A rented, pinned scratch buffer (<see cref="Rent"/>); <see cref="Pointer"/> is valid until it is disposed.</summary>
    public readonly ref struct Rental
    {
        private readonly float[] array;
        private readonly MemoryHandle pin;

        internal Rental(int length)
        {
            array = ArrayPool<float>.Shared.Rent(length);
            pin = array.AsMemory().Pin();
            Pointer = Align((float*)pin.Pointer);
        }

        /// <summary>The first of the rented floats, 64-byte aligned.</summary>
        public float* Pointer { get; }

        /// <summary>Unpins the buffer and returns it to the pool.</summary>
        public void Dispose()
        {
            pin.Dispose();
            ArrayPool<float>.Shared.Return(array);
        }
    }
}
