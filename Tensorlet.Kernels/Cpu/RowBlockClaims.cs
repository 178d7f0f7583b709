using System.Runtime.InteropServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One row block of a <see cref="GemmJob"/> whose B slivers other threads may take over, one K block at a time: the
/// owner publishes each packed A block, then owner and helpers claim its slivers until none is left, and the owner
/// packs the next block only when every claimed sliver is done. A slot in native memory, one cache line, shared by
/// the threads of one call.
/// <para>
/// Why: a GEMM's items are row blocks (a weight gradient has 4 of 11–22 ms at 2×256), so when the queue runs out one
/// thread can sit idle while another finishes a whole block, the longer when the host slows that thread's core.
/// Sharing the last blocks' slivers ends the call when the work does. Each element of C still sums its K blocks in
/// order through the same microkernel, so the floats do not depend on who ran which sliver.
/// </para>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = SlotBytes)]
internal unsafe struct RowBlockClaims
{
    /// <summary>Bytes per slot: a cache line, so two blocks' claims never share one.</summary>
    public const int SlotBytes = 64;

    /// <summary>The most row blocks a call tracks; with more, each block is a small part of the call and none is shared.</summary>
    public const int MaxBlocks = 64;

    /// <summary><see cref="TryClaim"/>: no sliver of the current K block is left to claim (the owner may be packing the next).</summary>
    public const int NoneLeft = -1;

    /// <summary><see cref="TryClaim"/>: the block is finished.</summary>
    public const int Finished = -2;

    private const int FinishedEpoch = int.MaxValue;

    // (epoch << 32) | next sliver to claim; epoch 0 before the first K block is published, then its ordinal from 1.
    [FieldOffset(0)]
    private long word;

    // Slivers of the current K block that helpers have finished.
    [FieldOffset(8)]
    private int helped;

    [FieldOffset(12)]
    private int count;

    [FieldOffset(16)]
    private int pc;

    [FieldOffset(20)]
    private int kcLen;

    [FieldOffset(24)]
    private float* aBlock;

    /// <summary>The published K block: its packed A, its first K index, its length (valid after a successful claim).</summary>
    public readonly (IntPtr ABlock, int Pc, int KcLen) Block => ((IntPtr)aBlock, pc, kcLen);

    /// <summary>Whether a helper can still join: the block is claimed by an owner (maybe not yet started) and not finished.</summary>
    public readonly bool IsOpen => (int)(Volatile.Read(in word) >> 32) != FinishedEpoch;

    /// <summary>How far the owner is: K blocks published so far (a helper joins the block furthest behind).</summary>
    public readonly int Epoch => (int)(Volatile.Read(in word) >> 32);

    /// <summary>The owner, with <paramref name="block"/> packed: opens its <paramref name="slivers"/> slivers to claims.</summary>
    public void Publish(float* block, int blockPc, int blockKcLen, int slivers)
    {
        aBlock = block;
        pc = blockPc;
        kcLen = blockKcLen;
        count = slivers;
        Volatile.Write(ref helped, 0);
        long epoch = (Volatile.Read(ref word) >> 32) + 1;
        Volatile.Write(ref word, epoch << 32);
    }

    /// <summary>Claims the next sliver of the current K block (an index from 0), or returns <see cref="NoneLeft"/> or <see cref="Finished"/>.</summary>
    public int TryClaim()
    {
        while (true)
        {
            long current = Volatile.Read(ref word);
            int epoch = (int)(current >> 32), next = (int)current;
            if (epoch == FinishedEpoch)
            {
                return Finished;
            }

            if (epoch == 0 || next >= Volatile.Read(ref count))
            {
                return NoneLeft;
            }

            if (Interlocked.CompareExchange(ref word, current + 1, current) == current)
            {
                return next;
            }
        }
    }

    /// <summary>A helper: one claimed sliver is done (its C writes are visible before the owner reads the count).</summary>
    public void Done() => Interlocked.Increment(ref helped);

    /// <summary>The owner: waits until the helpers have finished the <paramref name="slivers"/> slivers they claimed.</summary>
    public readonly void WaitForHelpers(int slivers)
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(in helped) != slivers)
        {
            CpuThreadTeam.ThrowIfGangFailed();
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The owner: the block is done; helpers leave it.</summary>
    public void Finish() => Volatile.Write(ref word, (long)FinishedEpoch << 32);

    /// <summary>Rounds a pointer up to a slot boundary (the caller allocates one slot more than it needs).</summary>
    public static RowBlockClaims* Align(byte* memory) => (RowBlockClaims*)(((nint)memory + SlotBytes - 1) & ~(nint)(SlotBytes - 1));
}
