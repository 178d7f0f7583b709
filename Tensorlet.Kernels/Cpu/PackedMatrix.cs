using System.Runtime.InteropServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The B operand of a GEMM, packed once by <see cref="CpuGemm.PackB"/> so that many multiplications by
/// the same matrix (an LSTM's recurrent weight, 99 times per batch) skip the packing.
/// It holds op(B) as [K, N] in the microkernel's layout: K in blocks of KC rows; inside a block, slivers
/// of NR columns (zero-padded at the right edge), each KC·NR floats contiguous and row-major.
/// With <see cref="Groups"/> above 1, the N columns are that many equal groups (a recurrent weight's gates), each
/// starting on a sliver of its own and zero-padded to whole slivers, so that a thread can own whole slivers of every
/// gate whatever H is; a GEMM with it writes each group's columns to their place in C.
/// The memory is native and 64-byte aligned: dispose it.
/// </summary>
internal sealed unsafe class PackedMatrix : IDisposable
{
    private float* data;

    internal PackedMatrix(int k, int n, GemmGeometry geometry, int groups = 1)
    {
        K = k;
        N = n;
        Geometry = geometry;
        Kc = geometry.KcFor(k);
        Groups = LayoutGroups(n, groups, geometry.Nr);
        GroupSlivers = (n / Groups + geometry.Nr - 1) / geometry.Nr;
        PaddedN = Groups * GroupSlivers * geometry.Nr;
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

    /// <summary>
    /// How many column groups start on a sliver of their own: 1 when the groups' width is a whole number of slivers, since
    /// then the plain layout already starts each one on a sliver.
    /// </summary>
    internal int Groups { get; }

    /// <summary>Slivers per column group (all N's slivers when <see cref="Groups"/> is 1).</summary>
    internal int GroupSlivers { get; }

    /// <summary>The packed width: every group rounded up to whole slivers.</summary>
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

    /// <summary>Whether this matrix can hold op(B) of [k, n] in <paramref name="groups"/> column groups for the given kernel without reallocating.</summary>
    internal bool Fits(int k, int n, GemmGeometry geometry, int groups = 1) =>
        data != null && K == k && N == n && Geometry == geometry && Groups == LayoutGroups(n, groups, geometry.Nr);

    /// <summary>
    /// The groups a packing of <paramref name="n"/> columns in <paramref name="groups"/> equal groups has: 1 where each
    /// group is whole slivers of <paramref name="nr"/> (the plain layout is the same). Throws unless the groups are equal.
    /// </summary>
    internal static int LayoutGroups(int n, int groups, int nr)
    {
        if (groups < 1 || n % groups != 0)
        {
            throw new ArgumentException($"{n} columns do not make {groups} equal groups.", nameof(groups));
        }

        return n / groups % nr == 0 ? 1 : groups;
    }

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
