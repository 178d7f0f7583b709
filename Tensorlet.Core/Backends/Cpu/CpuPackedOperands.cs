using System.Runtime.CompilerServices;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

/// <summary>
/// The CPU backend's packed copies of GEMM B operands that are multiplied by again unchanged: an LSTM's recurrent
/// weight, once per time step. A copy is keyed by the operand's buffer, offset and layout, and is valid while the
/// buffer's <see cref="CpuStorage{T}.Version"/> is the one it was packed at (any write, by a kernel or from the host,
/// retires it). An operand is packed and kept on its second use at one version and shape, so operands used once per change
/// (activations, the input weights) never hold a packed copy; <see cref="Keep"/> packs on the first use when the
/// caller knows many uses follow. Copies are freed with their buffer, or with the backend.
/// </summary>
internal sealed class CpuPackedOperands : IDisposable
{
    private readonly ConditionalWeakTable<CpuStorage<float>, List<Slot>> slots = new();

    /// <summary>
    /// The packing of op(<paramref name="b"/>) [k, n] to multiply by, or null when B should be multiplied unpacked this time
    /// (its first use at this version, unless <paramref name="keepNow"/>). A copy packed for another geometry, or in other
    /// column groups (<see cref="PackedMatrix.Groups"/>), is repacked.
    /// </summary>
    public PackedMatrix? For(Tensor b, bool transposeB, int k, int n, int threads, GemmGeometry geometry, bool keepNow, int groups = 1)
    {
        // An empty op(B) (k or n of 0: an empty batch's operand) has nothing to pack, and several empty operands share
        // one buffer and offset, so it would count as a second use.
        if (!keepNow && ((long)k * n == 0))
        {
            return null;
        }

        var storage = b.CpuStorage;
        var slot = SlotFor(storage, b.Offset, transposeB);
        if (slot.Packed is { IsDisposed: false } packed && slot.PackedVersion == storage.Version && packed.Fits(k, n, geometry, groups))
        {
            return packed;
        }

        // Uses count at one version and one shape of op(B): a buffer read twice as operands of different shapes (an
        // RNN's h of every step, as the layer above's input and, one step shorter, as its own dW_hh's operand) is not
        // multiplied by again, and packing it would pack a new shape whenever the batch's T or B changes.
        if (slot.SeenVersion != storage.Version || slot.SeenK != k || slot.SeenN != n)
        {
            slot.SeenVersion = storage.Version;
            slot.SeenK = k;
            slot.SeenN = n;
            slot.Uses = 0;
        }

        if (++slot.Uses < 2 && !keepNow)
        {
            return null;
        }

        // PackB refills the old buffer when the shape matches, so a changed weight costs no allocation.
        slot.Packed = CpuGemm.PackB(transposeB, k, n, b.ReadSpan, threads, slot.Packed is { IsDisposed: false } old ? old : null, geometry, groups);
        slot.PackedVersion = storage.Version;
        return slot.Packed;
    }

    /// <summary>The packing of op(<paramref name="b"/>), made now if it is not current: for callers that multiply by it many times.</summary>
    public PackedMatrix Keep(Tensor b, bool transposeB, int k, int n, int threads, GemmGeometry geometry, int groups = 1) => For(b, transposeB, k, n, threads, geometry, keepNow: true, groups)!;

    public void Dispose()
    {
        foreach (var (_, list) in slots)
        {
            Release(list);
        }

        slots.Clear();
    }

    private static void Release(List<Slot> list)
    {
        foreach (var slot in list)
        {
            slot.Packed?.Dispose();
            slot.Packed = null;
        }
    }

    private Slot SlotFor(CpuStorage<float> storage, long offset, bool transposeB)
    {
        if (!slots.TryGetValue(storage, out var list))
        {
            list = Track(storage);
        }

        foreach (var slot in list)
        {
            if (slot.Offset == offset && slot.TransposeB == transposeB)
            {
                return slot;
            }
        }

        var added = new Slot { Offset = offset, TransposeB = transposeB, SeenVersion = -1, PackedVersion = -1 };
        list.Add(added);
        return added;
    }

    /// <summary>
    /// Starts the slots of a buffer, freed when the buffer is. Apart from <see cref="SlotFor"/>, whose every call would
    /// otherwise allocate the lambda's closure: training allocates nothing per batch.
    /// </summary>
    private List<Slot> Track(CpuStorage<float> storage)
    {
        var list = new List<Slot>();
        slots.Add(storage, list);
        storage.Released += () =>
        {
            Release(list);
            slots.Remove(storage);
        };
        return list;
    }

    /// <summary>One operand layout of one buffer: its packed copy, and how often it was used at the version last seen.</summary>
    private sealed class Slot
    {
        public long Offset { get; init; }

        public bool TransposeB { get; init; }

        public long SeenVersion { get; set; }

        public int Uses { get; set; }

        public int SeenK { get; set; }

        public int SeenN { get; set; }

        public PackedMatrix? Packed { get; set; }

        public long PackedVersion { get; set; }
    }
}
