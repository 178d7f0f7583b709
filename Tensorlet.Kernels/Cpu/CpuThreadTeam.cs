using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The CPU kernels' worker threads: one process-wide team of up to <see cref="Environment.ProcessorCount"/> − 1
/// background threads, started as loops first ask for them, that run one parallel loop at a time together with the
/// calling thread.
/// <para>
/// Why not <see cref="Parallel.For(int, int, Action{int})"/>: an LSTM training step makes about 800 parallel
/// kernel calls of 0.1–0.5 ms each. Each Parallel.For allocated about 1.8 KB (2 MB per step) and woke a
/// thread-pool worker from cold. Here a loop's body is a struct on the caller's stack, handed to the workers as
/// a pointer (the caller waits until every worker is done with it), so a loop allocates nothing; and a worker
/// spins for <see cref="SpinBeforeSleep"/> after each loop before it blocks, so back-to-back kernels find it awake.
/// </para>
/// <para>
/// One loop runs at a time. A loop started while another runs (from a second thread, or nested in a body) runs
/// on its caller's thread alone: correct, since every kernel's result depends only on its chunking and never on
/// which thread runs a chunk.
/// </para>
/// </summary>
internal static unsafe class CpuThreadTeam
{
    /// <summary>How long an idle worker spins before it blocks: longer than the host work between two kernels of a step.</summary>
    private static readonly long SpinBeforeSleep = Stopwatch.Frequency / 5000; // 200 µs

    private static readonly object Gate = new();
    private static readonly int WorkerCount = Math.Max(0, Environment.ProcessorCount - 1);

    /// <summary>
    /// Workers started so far: as many as the largest loop has asked for, not one per logical CPU up front. Every loop
    /// wakes every started worker, and one that sits the loop out still spins for <see cref="SpinBeforeSleep"/>; with the
    /// default of one thread per physical core (<see cref="CpuCores"/>), workers for the other hardware threads would
    /// spin beside the compute threads on their cores after every kernel.
    /// </summary>
    private static int startedWorkers;

    // The current loop, published by the write of Ticket that follows these writes.
    private static delegate*<void*, int, void> invoke;
    private static void* body;
    private static int itemCount;
    private static int nextItem;
    private static int unfinishedWorkers;
    private static ExceptionDispatchInfo? failure;

    /// <summary>(loop number &lt;&lt; 16) | workers asked to join; one word, so a worker reads both at once.</summary>
    private static long ticket;

    private static int busy;
    private static int sleepers;

    // The running gang (RunGang): its size, and the state of its barrier (native, so that a SpinBarrier can point at it).
    private static int gangMembers;
    private static readonly int* GangBarrierState = (int*)NativeMemory.AllocZeroed(SpinBarrier.StateInts, sizeof(int));

    /// <summary>How many threads a loop can use at most: the workers and the caller.</summary>
    public static int MaxThreads => WorkerCount + 1;

    /// <summary>
    /// Runs body.Run(i) for every i in [0, count) on at most <paramref name="maxThreads"/> threads (the caller
    /// is one of them) and returns when all are done. An exception from an item is rethrown here, after every
    /// thread has stopped; items not yet started are skipped.
    /// </summary>
    public static void Run<TBody>(int count, int maxThreads, ref TBody loopBody)
        where TBody : struct, IParallelItems
    {
        int workers = Math.Min(Math.Min(maxThreads, count) - 1, WorkerCount);
        if (workers <= 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++)
            {
                loopBody.Run(i);
            }

            return;
        }

        Dispatch(&Invoke<TBody>, Unsafe.AsPointer(ref loopBody), count, workers);
    }

    /// <summary>
    /// Runs body.Run(member, members) once on each of <c>members</c> threads at the same time, members being at
    /// most <paramref name="maxMembers"/> (1, on the caller alone, when the team is already running a loop). The
    /// members may meet at <see cref="Barrier"/>(members), or at barriers of their own for groups of them.
    /// </summary>
    public static void RunGang<TBody>(int maxMembers, ref TBody gangBody)
        where TBody : struct, IGangBody
    {
        int workers = Math.Min(maxMembers - 1, WorkerCount);
        if (workers <= 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            gangBody.Run(0, 1);
            return;
        }

        gangMembers = workers + 1;
        GangBarrierState[0] = 0; // no member waiting, even after a gang that failed while some were
        Dispatch(&InvokeGang<TBody>, Unsafe.AsPointer(ref gangBody), workers + 1, workers);
    }

    /// <summary>
    /// The barrier of the running gang's <paramref name="members"/> members, the count each member was given: a gang of one
    /// (run inline, maybe while another thread's gang holds the team) never touches the team's barrier.
    /// </summary>
    public static SpinBarrier Barrier(int members) => members <= 1 ? SpinBarrier.Alone : new SpinBarrier(GangBarrierState, members);

    /// <summary>
    /// Throws <see cref="OperationCanceledException"/> when another thread of the running loop or gang has failed: for
    /// gang members that wait on each other by other means than a <see cref="SpinBarrier"/>, so that none waits forever.
    /// </summary>
    public static void ThrowIfGangFailed()
    {
        if (Volatile.Read(ref failure) is not null)
        {
            throw new OperationCanceledException("Another member of the gang failed.");
        }
    }

    /// <summary>Publishes a loop of <paramref name="count"/> items to <paramref name="workers"/> workers, runs items on the caller too, and waits. Called with busy taken.</summary>
    private static void Dispatch(delegate*<void*, int, void> function, void* loopBody, int count, int workers)
    {
        try
        {
            EnsureStarted(workers);
            invoke = function;
            body = loopBody;
            itemCount = count;
            nextItem = 0;
            failure = null;
            Volatile.Write(ref unfinishedWorkers, workers);

            // A full fence: either a worker about to sleep sees the new ticket, or we see it among the sleepers.
            long loop = (Volatile.Read(ref ticket) >> 16) + 1;
            Interlocked.Exchange(ref ticket, (loop << 16) | (uint)workers);
            if (Volatile.Read(ref sleepers) > 0)
            {
                lock (Gate)
                {
                    Monitor.PulseAll(Gate);
                }
            }

            RunItems();

            // The body lives on the caller's stack: wait for every worker before returning, even after a failure.
            var spinner = default(SpinWait);
            while (Volatile.Read(ref unfinishedWorkers) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            var error = failure;
            body = null;
            failure = null;
            gangMembers = 0;
            error?.Throw();
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    private static void Invoke<TBody>(void* loopBody, int item)
        where TBody : struct, IParallelItems => Unsafe.AsRef<TBody>(loopBody).Run(item);

    private static void InvokeGang<TBody>(void* gangBody, int member)
        where TBody : struct, IGangBody => Unsafe.AsRef<TBody>(gangBody).Run(member, gangMembers);

    /// <summary>Takes items until none are left; after a failure, stops every thread from taking more.</summary>
    private static void RunItems()
    {
        try
        {
            int item;
            while ((item = Interlocked.Increment(ref nextItem) - 1) < itemCount)
            {
                invoke(body, item);
            }
        }
        catch (Exception exception)
        {
            Volatile.Write(ref nextItem, int.MaxValue / 2);
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(exception), null);
        }
    }

    /// <summary>Starts workers up to <paramref name="workers"/> (called with busy taken, so by one thread at a time).</summary>
    private static void EnsureStarted(int workers)
    {
        for (int w = startedWorkers; w < workers; w++)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"Tensorlet CPU worker {w + 1}" };
            thread.Start(w);
            startedWorkers = w + 1;
        }
    }

    private static void WorkerLoop(object? state)
    {
        int index = (int)state!;
        long seenLoop = 0;
        while (true)
        {
            long current = WaitForLoop(seenLoop);
            seenLoop = current >> 16;

            // Workers beyond the loop's count sit it out; the caller does not wait for them.
            if (index < (int)(current & 0xFFFF))
            {
                RunItems();
                Interlocked.Decrement(ref unfinishedWorkers);
            }
        }
    }

    /// <summary>Spins, then blocks, until a loop after <paramref name="seenLoop"/> is published; returns its ticket.</summary>
    private static long WaitForLoop(long seenLoop)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinBeforeSleep;
        while (true)
        {
            long current = Volatile.Read(ref ticket);
            if (current >> 16 != seenLoop)
            {
                return current;
            }

            if (Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(8);
                continue;
            }

            lock (Gate)
            {
                Interlocked.Increment(ref sleepers);
                while (Volatile.Read(ref ticket) >> 16 == seenLoop)
                {
                    Monitor.Wait(Gate);
                }

                Interlocked.Decrement(ref sleepers);
            }
        }
    }
}
