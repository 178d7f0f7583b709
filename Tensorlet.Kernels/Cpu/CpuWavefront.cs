using System.Buffers;
using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Runs two dependent chains of sequential work side by side (a wavefront over two stacked recurrent layers): chunk c
/// of the leading chain, then the parts of the hand-over of chunk c, then chunk c of the trailing chain (see
/// <see cref="IWavefrontBody"/>). A group of G members of the gang runs the leading chain (members 0 to G − 1), the
/// next G the trailing chain, each group meeting at its own barrier inside a chunk; G is 1 on two or three threads, and
/// on more it is as many as the caller allows (a layer's steps split into equal whole slivers of hidden units), so that
/// a many-core machine runs both layers at once, each on half of its cores, instead of leaving all but two idle. All
/// members take hand-over parts, lowest chunk first: a leading member one part of each chunk it has led before it leads
/// the next (all the older parts it finds, when the trailing group has fallen behind), a trailing member whenever its
/// next chunk is not ready, and members beyond the two groups always. The trailing chain is the critical path (no chunk
/// of it can start before that chunk's hand-over), so the leading group keeps up with the hand-overs rather than
/// running ahead and leaving them all to the trailing group, which would then fall behind and leave the leading group
/// idle at the end. But when the trailing group was already waiting as the leading group finished a chunk, the leading
/// chain is the slower one just then (a busy host slows one core, or its steps wait on memory), so the leading members
/// leave that chunk's parts to the trailing group and go straight on to the next chunk. The groups never meet each
/// other at a barrier; each waits only for the chunk it needs. What each chunk computes does not depend on which thread
/// runs it, so the results are the same for any thread count. On one thread the chunks run in dependency order.
/// </summary>
internal static unsafe class CpuWavefront
{
    /// <summary>
    /// Runs <paramref name="chunks"/> chunks of <paramref name="body"/> on up to <paramref name="threads"/> threads, each chain
    /// on <paramref name="chainMembers"/> of them (1 unless there are at least twice as many threads).
    /// </summary>
    public static void Run<TBody>(int chunks, int threads, int chainMembers, ref TBody body)
        where TBody : struct, IWavefrontBody
    {
        int members = Math.Clamp(threads, 1, CpuThreadTeam.MaxThreads);
        int length = Layout.PartsDone + chunks;
        int[] rented = ArrayPool<int>.Shared.Rent(length);
        try
        {
            fixed (int* counters = rented)
            {
                new Span<int>(counters, length).Clear();
                var gang = new Gang<TBody>(Unsafe.AsPointer(ref body), counters, chunks, Math.Max(1, chainMembers));
                CpuThreadTeam.RunGang(members, ref gang);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Where the members' shared ints are: each group's barrier on a cache line of its own (16 ints apart), then the chunks
    /// the leading chain has done, the hand-over parts claimed, whether a trailing member is waiting (1) or not (0), and
    /// the parts done per chunk.
    /// </summary>
    private static class Layout
    {
        public const int LeadingBarrier = 0, TrailingBarrier = 16, LeadingDone = 32, PartsClaimed = 33, TrailingWaits = 34, PartsDone = 48;
    }

    private readonly struct Gang<TBody>(void* body, int* counters, int chunks, int group) : IGangBody
        where TBody : struct, IWavefrontBody
    {
        public void Run(int member, int members)
        {
            ref TBody work = ref Unsafe.AsRef<TBody>(body);
            if (members == 1)
            {
                // Inline (one thread, or the team busy with another loop): every chunk in dependency order.
                for (int c = 0; c < chunks; c++)
                {
                    work.Leading(c, 0, SpinBarrier.Alone);
                    work.HandOver(c, 0, 1);
                    work.Trailing(c, 0, SpinBarrier.Alone);
                }

                return;
            }

            // Two whole groups, or, with fewer members than that, groups of one.
            int size = 2 * group <= members ? group : 1;
            bool leads = member < size, trails = !leads && member < 2 * size;
            int index = leads ? member : member - size;
            var barrier = new SpinBarrier(counters + (leads ? Layout.LeadingBarrier : Layout.TrailingBarrier), size);

            int parts = members;
            int* partsDone = counters + Layout.PartsDone;
            int totalParts = chunks * parts;
            int led = 0, trailed = 0;
            var spinner = default(SpinWait);
            bool triedNewestPart = false, trailingWaited = false;
            while (true)
            {
                if (trails)
                {
                    if (trailed == chunks)
                    {
                        return;
                    }

                    if (Volatile.Read(ref partsDone[trailed]) == parts)
                    {
                        StopsWaiting();
                        work.Trailing(trailed, index, barrier);
                        trailed++;
                        spinner = default;
                        continue;
                    }
                }

                // A hand-over part whose leading chunk is done, the lowest first. A leading member goes for one part of the
                // chunk it has just led (which is in its cache) and then back to its chain, leaving that chunk's other parts
                // to the trailing group, or all of them if the trailing group was waiting when it finished the chunk; parts
                // of older chunks, left because the trailing group has fallen behind, it takes all.
                int claimed = Volatile.Read(ref counters[Layout.PartsClaimed]);
                int leadingDone = Volatile.Read(ref counters[Layout.LeadingDone]);
                bool newest = claimed / parts == leadingDone - 1;
                bool leaveToTrailing = leads && (triedNewestPart || trailingWaited) && newest && leadingDone < chunks;
                if (!leaveToTrailing && claimed < totalParts && claimed / parts < leadingDone)
                {
                    triedNewestPart |= leads && newest;
                    if (Interlocked.CompareExchange(ref counters[Layout.PartsClaimed], claimed + 1, claimed) == claimed)
                    {
                        if (trails)
                        {
                            StopsWaiting();
                        }

                        work.HandOver(claimed / parts, claimed % parts, parts);
                        Interlocked.Increment(ref partsDone[claimed / parts]);
                        spinner = default;
                    }

                    continue;
                }

                if (leads && led < chunks)
                {
                    // When member 0 returns, the whole group has finished the chunk (IWavefrontBody.Leading).
                    work.Leading(led, index, barrier);
                    led++;

                    // Read before the chunk is published: a waiting trailing member would claim a part at once and stop
                    // waiting.
                    trailingWaited = Volatile.Read(ref counters[Layout.TrailingWaits]) != 0;
                    if (index == 0)
                    {
                        Volatile.Write(ref counters[Layout.LeadingDone], led);
                    }

                    triedNewestPart = false;
                    continue;
                }

                if (claimed >= totalParts && !trails)
                {
                    // Nothing left to claim, and the trailing chain is the trailing group's.
                    return;
                }

                if (trails && counters[Layout.TrailingWaits] == 0)
                {
                    Volatile.Write(ref counters[Layout.TrailingWaits], 1);
                }

                CpuThreadTeam.ThrowIfGangFailed();
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        /// <summary>A trailing member starting work: no longer waiting (written only when it was, to keep the line quiet).</summary>
        private void StopsWaiting()
        {
            if (counters[Layout.TrailingWaits] != 0)
            {
                Volatile.Write(ref counters[Layout.TrailingWaits], 0);
            }
        }
    }
}
