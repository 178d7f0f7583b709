using System.Numerics;
using System.Runtime.InteropServices;

namespace Tensorlet;

/// <summary>
/// What the host knows about the values in one index buffer, without reading it back: a bound [min, max] per
/// region, from the values it last copied there, and the last check of loss targets that passed, until the buffer is
/// next written. The ops check an <see cref="IndexTensor"/> against the weight or the classes with this before they
/// queue a kernel, because an ILGPU kernel cannot throw, and a device-to-host copy of the indices on every call would
/// stall the queue.
/// </summary>
/// <remarks>
/// The regions are disjoint, sorted, and cover the whole buffer. A copy into part of a region leaves the rest with
/// the region's old bound, which still holds for it (its values are a subset); past <see cref="MaxRegions"/>
/// neighbours other than the region just written are merged into the union of their bounds. So a bound is never too narrow, and may be wider than
/// the values: callers treat "outside" as "maybe outside" and read the values to be sure. A kernel that writes
/// indices on the device must call <see cref="Forget"/> (or <see cref="Record"/>) for what it writes. The buffer starts
/// zero-filled.
/// <para>
/// A bound cannot tell an ignored target (nn.CrossEntropyLoss's ignore_index, −100) from a bad one, so targets that may
/// hold it are read back to be checked; the check that passed is remembered (<see cref="RememberPassedTargets"/>), so
/// that a loss and the op under it, which check the same targets, read them once. Every <see cref="Record"/> and
/// <see cref="Forget"/>, anywhere in the buffer, drops it: a write may put a bad target where the check saw a good one.
/// </para>
/// </remarks>
internal sealed class IndexBounds
{
    // A batch buffer and its partial-batch slice need two; per-step writes into one buffer would add one each.
    private const int MaxRegions = 16;

    private readonly List<Region> regions = new(MaxRegions + 2);
    private readonly Lock gate = new();

    // The last target check that passed, until the next write; null when there is none.
    private PassedTargets? passedTargets;

    // How many writes have been recorded: what a read-back saw is known only if none landed while it ran.
    private long writes;

    public IndexBounds(long length)
    {
        if (length > 0)
        {
            regions.Add(new Region(0, length, 0, 0));
        }
    }

    /// <summary>The least and greatest of <paramref name="values"/>; (int.MaxValue, int.MinValue) when there are none.</summary>
    public static (int Min, int Max) RangeOf(ReadOnlySpan<int> values)
    {
        int min = int.MaxValue;
        int max = int.MinValue;
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<int>.Count)
        {
            var lanes = MemoryMarshal.Cast<int, Vector<int>>(values);
            var vMin = new Vector<int>(int.MaxValue);
            var vMax = new Vector<int>(int.MinValue);
            foreach (var v in lanes)
            {
                vMin = Vector.Min(vMin, v);
                vMax = Vector.Max(vMax, v);
            }

            for (int k = 0; k < Vector<int>.Count; k++)
            {
                min = Math.Min(min, vMin[k]);
                max = Math.Max(max, vMax[k]);
            }

            i = lanes.Length * Vector<int>.Count;
        }

        for (; i < values.Length; i++)
        {
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }

        return (min, max);
    }

    /// <summary>The writes recorded so far: take it before a read-back, and give it to <see cref="Narrow"/> and <see cref="RememberPassedTargets"/> after.</summary>
    public long Writes
    {
        get
        {
            lock (gate)
            {
                return writes;
            }
        }
    }

    /// <summary>Records that elements [start, start + length), inside the buffer, now hold values in [min, max].</summary>
    public void Record(long start, long length, int min, int max)
    {
        if (length <= 0)
        {
            return;
        }

        lock (gate)
        {
            writes++;
            passedTargets = null;
            SetRegion(start, start + length, min, max);
        }
    }

    /// <summary>
    /// Narrows the bound of [start, start + length) to [min, max], the values a read-back found there, unless a write
    /// was recorded since <paramref name="writesBefore"/> (<see cref="Writes"/> before the read): that write's bound stands.
    /// </summary>
    public void Narrow(long writesBefore, long start, long length, int min, int max)
    {
        if (length <= 0)
        {
            return;
        }

        lock (gate)
        {
            if (writes == writesBefore)
            {
                SetRegion(start, start + length, min, max);
            }
        }
    }

    private void SetRegion(long start, long end, int min, int max)
    {
        // Called under the gate.
        int first = 0;
        while (regions[first].End <= start)
        {
            first++;
        }

        int last = first;
        while (last < regions.Count && regions[last].Start < end)
        {
            last++;
        }

        // The parts of the first and last overlapped regions outside the write keep their old bounds.
        var head = regions[first];
        var tail = regions[last - 1];
        regions.RemoveRange(first, last - first);
        int written = first;
        if (head.Start < start)
        {
            regions.Insert(written++, head with { End = start });
        }

        regions.Insert(written, new Region(start, end, min, max));
        if (tail.End > end)
        {
            regions.Insert(written + 1, tail with { Start = end });
        }

        while (regions.Count > MaxRegions)
        {
            written = MergeNarrowestPair(written);
        }
    }

    /// <summary>Records that elements [start, start + length) may now hold any value.</summary>
    public void Forget(long start, long length) => Record(start, length, int.MinValue, int.MaxValue);

    /// <summary>
    /// Remembers that the targets in [start, start + length), as read back after the last write to the buffer, are each
    /// in [0, <paramref name="classes"/>) or equal to <paramref name="ignoreIndex"/>, and that
    /// <paramref name="counted"/> of them are not <paramref name="ignoreIndex"/>; unless a write was recorded since
    /// <paramref name="writesBefore"/> (<see cref="Writes"/> before the read), which may have changed what was read.
    /// </summary>
    public void RememberPassedTargets(long writesBefore, long start, long length, int classes, int? ignoreIndex, int counted)
    {
        lock (gate)
        {
            if (writes == writesBefore)
            {
                passedTargets = new PassedTargets(start, length, classes, ignoreIndex, counted);
            }
        }
    }

    /// <summary>
    /// How many targets in [start, start + length) are not <paramref name="ignoreIndex"/>, when a check of exactly those
    /// targets against <paramref name="classes"/> and <paramref name="ignoreIndex"/> passed since the buffer was last
    /// written (<see cref="RememberPassedTargets"/>); null otherwise.
    /// </summary>
    public int? CountedIfPassed(long start, long length, int classes, int? ignoreIndex)
    {
        lock (gate)
        {
            return passedTargets is { } p && p.Start == start && p.Length == length && p.Classes == classes && p.IgnoreIndex == ignoreIndex
                ? p.Counted
                : null;
        }
    }

    /// <summary>A bound on the values in [start, start + length); (int.MaxValue, int.MinValue) when the range is empty.</summary>
    public (int Min, int Max) Of(long start, long length)
    {
        int min = int.MaxValue;
        int max = int.MinValue;
        if (length <= 0)
        {
            return (min, max);
        }

        long end = start + length;
        lock (gate)
        {
            foreach (var region in regions)
            {
                if (region.Start < end && region.End > start)
                {
                    min = Math.Min(min, region.Min);
                    max = Math.Max(max, region.Max);
                }
            }
        }

        return (min, max);
    }

    // Merges the neighbours whose merged bound is the narrowest, so one region of bad values stays apart from good ones,
    // leaving the region just written exact (it is the likeliest to be used next). Returns that region's new position.
    private int MergeNarrowestPair(int written)
    {
        int best = -1;
        long bestWidth = long.MaxValue;
        for (int i = 0; i + 1 < regions.Count; i++)
        {
            if (i == written || i + 1 == written)
            {
                continue;
            }

            long width = (long)Math.Max(regions[i].Max, regions[i + 1].Max) - Math.Min(regions[i].Min, regions[i + 1].Min);
            if (width < bestWidth)
            {
                best = i;
                bestWidth = width;
            }
        }

        var left = regions[best];
        var right = regions[best + 1];
        regions[best] = new Region(left.Start, right.End, Math.Min(left.Min, right.Min), Math.Max(left.Max, right.Max));
        regions.RemoveAt(best + 1);
        return best < written ? written - 1 : written;
    }

    /// <summary>Elements [Start, End) hold values in [Min, Max].</summary>
    private readonly record struct Region(long Start, long End, int Min, int Max);

    /// <summary>The targets [Start, Start + Length) are in [0, Classes) or IgnoreIndex, and Counted are not IgnoreIndex.</summary>
    private readonly record struct PassedTargets(long Start, long Length, int Classes, int? IgnoreIndex, int Counted);
}
