using System.Buffers;
using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Runs two dependent chains of sequential work side by side (a wavefront over two stacked recurrent layers): chunk c
/// of the leading chain, then the parts of the hand-over of chunk c, then chunk c of the trailing chain (see
/// <see cref="IWavefrontBody"/>). Member 0 of the gang runs the leading chain, member 1 the trailing chain, and both
/// take hand-over parts, lowest chunk first: member 0 one part of each chunk it has led before it leads the next (all
/// the older parts it finds, when member 1 has fallen behind), member 1 whenever its next trailing chunk is not ready,
/// and any further members always. The trailing chain is the critical path (no chunk of it can start before that
/// chunk's hand-over), so member 0 keeps up with the hand-overs rather than running the leading chain ahead and leaving
/// them all to member 1, which would then fall behind and leave member 0 idle at the end.
/// The members never meet at a barrier; each waits only for the chunk it needs. What each chunk computes does not
/// depend on which thread runs it, so the results are the same for any thread count. On one thread the chunks run in
/// dependency order.
/// </summary>
internal static unsafe class CpuWavefront
{
    /// <summary>Runs <paramref name="chunks"/> chunks of <paramref name="body"/> on up to <paramref name="threads"/> threads.</summary>
    public static void Run<TBody>(int chunks, int threads, ref TBody body)
        where TBody : struct, IWavefrontBody
    {
        int members = Math.Clamp(threads, 1, CpuThreadTeam.MaxThreads);
        int[] rented = ArrayPool<int>.Shared.Rent(chunks + Progress.Counters);
        try
        {
            fixed (int* counters = rented)
            {
                new Span<int>(counters, chunks + Progress.Counters).Clear();
                var gang = new Gang<TBody>(Unsafe.AsPointer(ref body), counters, chunks, members);
                CpuThreadTeam.RunGang(members, ref gang);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>The counters the members share: chunks done per chain, hand-over parts claimed, and parts done per chunk.</summary>
    private static class Progress
    {
        public const int LeadingDone = 0, TrailingDone = 1, PartsClaimed = 2, Counters = 3;
    }

    private readonly struct Gang<TBody>(void* body, int* counters, int chunks, int parts) : IGangBody
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
                    work.Leading(c);
                    for (int p = 0; p < parts; p++)
                    {
                        work.HandOver(c, p, parts);
                    }

                    work.Trailing(c);
                }

                return;
            }

            int* partsDone = counters + Progress.Counters;
            int totalParts = chunks * parts;
            var spinner = default(SpinWait);
            bool triedNewestPart = false;
            while (true)
            {
                if (member == 1)
                {
                    int next = counters[Progress.TrailingDone];
                    if (next == chunks)
                    {
                        return;
                    }

                    if (Volatile.Read(ref partsDone[next]) == parts)
                    {
                        work.Trailing(next);
                        Volatile.Write(ref counters[Progress.TrailingDone], next + 1);
                        spinner = default;
                        continue;
                    }
                }

                // A hand-over part whose leading chunk is done, the lowest first. Member 0 goes for one part of the chunk
                // it has just led (which is in its cache) and then back to its chain, leaving that chunk's other parts to
                // member 1; parts of older chunks, left because member 1 has fallen behind, it takes all.
                int claimed = Volatile.Read(ref counters[Progress.PartsClaimed]);
                int leadingDone = Volatile.Read(ref counters[Progress.LeadingDone]);
                bool newest = claimed / parts == leadingDone - 1;
                bool leaveToTrailing = member == 0 && triedNewestPart && newest && leadingDone < chunks;
                if (!leaveToTrailing && claimed < totalParts && claimed / parts < leadingDone)
                {
                    triedNewestPart |= member == 0 && newest;
                    if (Interlocked.CompareExchange(ref counters[Progress.PartsClaimed], claimed + 1, claimed) == claimed)
                    {
                        work.HandOver(claimed / parts, claimed % parts, parts);
                        Interlocked.Increment(ref partsDone[claimed / parts]);
                        spinner = default;
                    }

                    continue;
                }

                if (member == 0 && counters[Progress.LeadingDone] < chunks)
                {
                    int c = counters[Progress.LeadingDone];
                    work.Leading(c);
                    Volatile.Write(ref counters[Progress.LeadingDone], c + 1);
                    triedNewestPart = false;
                    continue;
                }

                if (claimed >= totalParts && member != 1)
                {
                    // Nothing left to claim, and the trailing chain is member 1's.
                    return;
                }

                CpuThreadTeam.ThrowIfGangFailed();
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
