using System.Collections.Concurrent;
using System.Diagnostics;
using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The wavefront's schedule (<see cref="CpuWavefront"/>) with a body that only records what ran where and when: the
/// order its dependencies demand, and who takes the hand-over parts when the leading chain is the slower one.
/// </summary>
public sealed class CpuWavefrontTests
{
    [Test]
    public void ALeadingChainThatFindsTheTrailingOneWaitingLeavesItTheHandOver()
    {
        // Each leading chunk c starts only once the trailing chunk c − 1 has run, so the trailing thread has nothing to do
        // and waits whenever a leading chunk ends: the leading chain is the slower one, as when a busy host slows its
        // thread. The leading thread should then go straight on to its next chunk and leave both hand-over parts to the
        // waiting thread; taking one of each chunk's two, as it does while the trailing chain is the busier, would hold
        // up the slower chain. Who takes a part never changes what is computed; a thread descheduled at the wrong moment
        // may still move one, so only a clear majority is asserted.
        if (CpuThreadTeam.MaxThreads < 2)
        {
            Assert.Ignore($"The wavefront needs two threads; this machine has {Environment.ProcessorCount} core(s).");
        }

        const int Chunks = 24;
        var log = new WaveLog(Chunks);
        var body = new RecordingWave(log, partMicroseconds: 300);
        CpuWavefront.Run(Chunks, threads: 2, chainMembers: 1, ref body);
        if (log.TrailingThread == log.LeadingThread)
        {
            Assert.Ignore("The thread team was busy with another loop, so the wavefront ran on one thread.");
        }

        Assert.Multiple(() =>
        {
            for (int c = 0; c < Chunks; c++)
            {
                Assert.That(log.PartsDone[c], Is.EqualTo(2), $"chunk {c}: every part once");
                Assert.That(log.LeadingEnd[c], Is.LessThanOrEqualTo(log.FirstPartStart[c]), $"chunk {c}: hand-over after its leading chunk");
                Assert.That(log.LastPartEnd[c], Is.LessThanOrEqualTo(log.TrailingStart[c]), $"chunk {c}: trailing chunk after its hand-over");
            }

            int leadingParts = log.Parts.Count(p => p.Thread == log.LeadingThread && p.Chunk < Chunks - 1);
            Assert.That(leadingParts, Is.LessThanOrEqualTo((Chunks - 1) / 4), "parts the leading thread took before the last chunk");
        });
    }

    /// <summary>What a run did: per chunk, when its leading chunk ended, its parts ran and its trailing chunk started (0: not yet).</summary>
    private sealed class WaveLog(int chunks)
    {
        public int LeadingThread { get; set; }

        public int TrailingThread { get; set; }

        public long[] LeadingEnd { get; } = new long[chunks];

        public long[] FirstPartStart { get; } = Enumerable.Repeat(long.MaxValue, chunks).ToArray();

        public long[] LastPartEnd { get; } = new long[chunks];

        public long[] TrailingStart { get; } = new long[chunks];

        public int[] PartsDone { get; } = new int[chunks];

        public ConcurrentBag<(int Chunk, int Thread)> Parts { get; } = [];
    }

    /// <summary>
    /// A body that records itself in the log: a leading chunk waits for the trailing chunk before it, then 200 µs more (so
    /// the trailing thread is waiting when it ends); a part busy-waits for a set time; a trailing chunk does nothing.
    /// </summary>
    private readonly struct RecordingWave(WaveLog log, int partMicroseconds) : IWavefrontBody
    {
        public void Leading(int chunk, int member, SpinBarrier group)
        {
            log.LeadingThread = Environment.CurrentManagedThreadId;
            while (chunk > 0 && Interlocked.Read(ref log.TrailingStart[chunk - 1]) == 0)
            {
                Thread.SpinWait(10);
            }

            Busy(200);
            log.LeadingEnd[chunk] = Stopwatch.GetTimestamp();
        }

        public void HandOver(int chunk, int part, int parts)
        {
            long start = Stopwatch.GetTimestamp();
            Keep(ref log.FirstPartStart[chunk], start, smaller: true);
            log.Parts.Add((chunk, Environment.CurrentManagedThreadId));
            Busy(partMicroseconds);
            Keep(ref log.LastPartEnd[chunk], Stopwatch.GetTimestamp(), smaller: false);
            Interlocked.Increment(ref log.PartsDone[chunk]);
        }

        public void Trailing(int chunk, int member, SpinBarrier group)
        {
            log.TrailingThread = Environment.CurrentManagedThreadId;
            Interlocked.Exchange(ref log.TrailingStart[chunk], Stopwatch.GetTimestamp());
        }

        private static void Busy(int microseconds)
        {
            long end = Stopwatch.GetTimestamp() + (microseconds * Stopwatch.Frequency / 1_000_000);
            while (Stopwatch.GetTimestamp() < end)
            {
                Thread.SpinWait(10);
            }
        }

        /// <summary>Stores <paramref name="value"/> in <paramref name="target"/> if it is smaller (or larger), atomically.</summary>
        private static void Keep(ref long target, long value, bool smaller)
        {
            long seen = Interlocked.Read(ref target);
            while (smaller ? value < seen : value > seen)
            {
                long previous = Interlocked.CompareExchange(ref target, value, seen);
                if (previous == seen)
                {
                    return;
                }

                seen = previous;
            }
        }
    }
}
