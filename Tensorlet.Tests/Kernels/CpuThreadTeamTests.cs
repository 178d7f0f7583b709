using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>The CPU kernels' worker team: every item runs once, failures surface once, and a loop allocates nothing.</summary>
public sealed unsafe class CpuThreadTeamTests
{
    [TestCase(1, 1)]
    [TestCase(7, 2)]
    [TestCase(1000, 2)]
    [TestCase(1000, 8)]
    public void EveryItemRunsExactlyOnce(int count, int threads)
    {
        var hits = new int[count];
        fixed (int* h = hits)
        {
            CpuParallel.ForItems(count, threads, new CountHits(h));
        }

        Assert.That(hits, Is.All.EqualTo(1));
    }

    [TestCase(1L, 1L, 2)]
    [TestCase(100_000L, 16_384L, 2)]
    [TestCase(100_003L, 1L, 3)]
    public void ChunksCoverTheRangeWithoutOverlap(long length, long minChunk, int threads)
    {
        var hits = new int[length];
        fixed (int* h = hits)
        {
            CpuParallel.For(length, minChunk, threads, new CountRange(h));
        }

        Assert.That(hits, Is.All.EqualTo(1));
    }

    [Test]
    public void AFailingItemIsRethrownOnTheCallerAndTheTeamStaysUsable()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CpuParallel.ForItems(64, 2, new FailAt(17)));
        Assert.That(error!.Message, Is.EqualTo("item 17"));

        // The next loop runs normally: the failure neither hung a worker nor left the team marked busy.
        EveryItemRunsExactlyOnce(1000, 2);
    }

    [Test]
    public void ALoopInsideALoopRunsOnItsCallersThread()
    {
        var sums = new long[8];
        fixed (long* s = sums)
        {
            CpuParallel.ForItems(8, 2, new NestedSum(s));
        }

        Assert.That(sums, Is.All.EqualTo(100L * 99 / 2));
    }

    [Test]
    public void LoopsFromTwoThreadsAtOnceBothComplete()
    {
        var results = new int[2][];
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var hits = new int[5000];
            for (int repeat = 0; repeat < 200; repeat++)
            {
                fixed (int* h = hits)
                {
                    CpuParallel.ForItems(hits.Length, 2, new CountHits(h));
                }
            }

            results[t] = hits;
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            Assert.That(thread.Join(TimeSpan.FromMinutes(1)), Is.True, "a loop never finished");
        }

        Assert.That(results[0], Is.All.EqualTo(200));
        Assert.That(results[1], Is.All.EqualTo(200));
    }

    [Test]
    public void ALoopAllocatesNothing()
    {
        var data = new float[1 << 18];
        const int threads = 2;
        CpuMemory.Fill(data, 1f, threads);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            CpuMemory.Fill(data, i, threads);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, "bytes allocated by 100 parallel fills");
        Assert.That(data, Is.All.EqualTo(99f));
    }

    [Test]
    public void AGangMeetsAtEveryBarrier()
    {
        // Each round every member writes its slot, waits, then reads all slots: a missing barrier shows as a stale read.
        const int rounds = 2000;
        var slots = new long[CpuThreadTeam.MaxThreads];
        var errors = new int[1];
        var members = new int[1];
        fixed (long* s = slots)
        fixed (int* e = errors, m = members)
        {
            var gang = new Rounds(s, e, m, rounds);
            CpuThreadTeam.RunGang(2, ref gang);
        }

        Assert.That(members[0], Is.EqualTo(Math.Min(2, CpuThreadTeam.MaxThreads)));
        Assert.That(errors[0], Is.Zero, "reads that saw another member's previous round");
    }

    [Test]
    public void GangsFromTwoThreadsAtOnceBothComplete()
    {
        // One gets the team, the other runs as a gang of one; neither may touch the other's barrier.
        var errors = new int[2];
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var slots = new long[CpuThreadTeam.MaxThreads];
            var members = new int[1];
            for (int repeat = 0; repeat < 50; repeat++)
            {
                fixed (long* s = slots)
                fixed (int* e = &errors[t], m = members)
                {
                    var gang = new Rounds(s, e, m, 200);
                    CpuThreadTeam.RunGang(2, ref gang);
                }

                Array.Clear(slots);
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            Assert.That(thread.Join(TimeSpan.FromMinutes(1)), Is.True, "a gang never finished");
        }

        Assert.That(errors, Is.All.Zero, "reads that saw another member's previous round");
    }

    [Test]
    public void AFailingGangMemberReleasesTheOthersAndItsErrorReachesTheCaller()
    {
        // The last member throws after a few rounds; the others, waiting at the barrier, must not wait forever.
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            var gang = new FailInRound(3);
            CpuThreadTeam.RunGang(2, ref gang);
        });
        Assert.That(error!.Message, Is.EqualTo("round 3"));
        AGangMeetsAtEveryBarrier();
    }

    [Test]
    public void AGangInsideALoopRunsAsOneMember()
    {
        var members = new int[4];
        fixed (int* m = members)
        {
            CpuParallel.ForItems(4, 2, new GangInItem(m));
        }

        Assert.That(members, Is.All.EqualTo(1));
    }

    private readonly struct Rounds(long* slots, int* errors, int* membersSeen, int rounds) : IGangBody
    {
        public void Run(int member, int members)
        {
            *membersSeen = members;
            for (long round = 1; round <= rounds; round++)
            {
                Volatile.Write(ref slots[member], round);
                CpuThreadTeam.Barrier(members).Wait();
                for (int other = 0; other < members; other++)
                {
                    if (Volatile.Read(ref slots[other]) != round)
                    {
                        Interlocked.Increment(ref *errors);
                    }
                }

                CpuThreadTeam.Barrier(members).Wait();
            }
        }
    }

    private readonly struct FailInRound(int failing) : IGangBody
    {
        public void Run(int member, int members)
        {
            for (int round = 1; round <= 10; round++)
            {
                if (member == members - 1 && round == failing)
                {
                    throw new InvalidOperationException($"round {round}");
                }

                CpuThreadTeam.Barrier(members).Wait();
            }
        }
    }

    private readonly struct GangInItem(int* members) : IParallelItems
    {
        public void Run(int item)
        {
            var gang = new RecordMembers(members + item);
            CpuThreadTeam.RunGang(2, ref gang);
        }
    }

    private readonly struct RecordMembers(int* members) : IGangBody
    {
        public void Run(int member, int count) => *members = count;
    }

    private readonly struct CountHits(int* hits) : IParallelItems
    {
        public void Run(int item) => Interlocked.Increment(ref hits[item]);
    }

    private readonly struct CountRange(int* hits) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long i = start; i < start + count; i++)
            {
                Interlocked.Increment(ref hits[i]);
            }
        }
    }

    private readonly struct FailAt(int failing) : IParallelItems
    {
        public void Run(int item)
        {
            if (item == failing)
            {
                throw new InvalidOperationException($"item {item}");
            }
        }
    }

    private readonly struct NestedSum(long* sums) : IParallelItems
    {
        public void Run(int item)
        {
            long* slot = sums + item;
            CpuParallel.ForItems(100, 2, new AddIndex(slot));
        }
    }

    private readonly struct AddIndex(long* sum) : IParallelItems
    {
        public void Run(int item) => Interlocked.Add(ref *sum, item);
    }
}
