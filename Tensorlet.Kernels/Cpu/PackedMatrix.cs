using System.Runtime.InteropServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The B operand of a GEMM, packed once by <see cref="CpuGemm.PackB"/> so that many multiplications by
/// the same matrix (an LSTM's recurrent weight, 99 times per batch) skip the packing.
/// It holds op(B) as [K, N] in the microkernel's layout: K in blocks of KC rows; inside a block, slivers
/// of NR columns (zero-padded at the right edge), each KC·NR floats contiguous and row-major.
/// The memory is native and 64-byte aligned: dispose it.
/// </summary>
internal sealed unsafe class PackedMatrix : IDisposable
{
    private float* data;

    internal PackedMatrix(int k, int n, GemmGeometry geometry)
    {
        K = k;
        N = n;
        Geometry = geometry;
        Kc = geometry.KcFor(k);
        PaddedN = (n + geometry.Nr - 1) / geometry.Nr * geometry.Nr;
        Length = (long)k * PaddedN;
        nuint bytes = (nuint)Math.Max(1, Length) * sizeof(float);
        data = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        GC.AddMemoryPressure((long)bytes);
    }

    /// <summary>Rows of op(B): the inner dimension of the product.</summary>
    public int K { get; }

    /// <summary>Columns of op(B) and of C.</summary>
    public int N { get; }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => data == null;

    /// <summary>The blocking it was packed for; a GEMM with this matrix runs with it.</summary>
    internal GemmGeometry Geometry { get; }

    /// <summary>The K block length (every block but possibly the last has this many rows).</summary>
    internal int Kc { get; }

    /// <summary>N rounded up to a whole number of slivers.</summary>
    internal int PaddedN { get; }

    internal long Length { get; }

    internal float* Data
    {
        get
        {
            ObjectDisposedException.ThrowIf(data == null, this);
            return data;
        }
    }

    /// <summary>Whether this matrix can hold op(B) of [k, n] for the given kernel without reallocating.</summary>
    internal bool Fits(int k, int n, GemmGeometry geometry) => data != null && K == k && N == n && Geometry == geometry;

    /// <summary>Frees the packed data.</summary>
    public void Dispose()
    {
        if (data != null)
        {
            NativeMemory.AlignedFree(data);
            GC.RemoveMemoryPressure(Math.Max(1, Length) * sizeof(float));
            data = null;
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory if the owner forgot to.</summary>
    ~PackedMatrix() => Dispose();
}
