namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// A sense-reversing spin barrier for the members of a gang (<see cref="CpuThreadTeam.RunGang{TBody}"/>), or for a group of
/// them: each member calls <see cref="Wait"/> the same number of times, and none returns from a call before all have made
/// it. The members are on distinct cores and arrive within microseconds, so they spin rather than block. Its state is
/// <see cref="StateInts"/> ints that the members share, zero before the first use; a barrier of one member never touches it.
/// A struct over a pointer, so making one allocates nothing.
/// </summary>
/// <param name="state">The shared state: the members arrived, then the generation.</param>
/// <param name="members">How many members meet at it.</param>
internal readonly unsafe struct SpinBarrier(int* state, int members)
{
    /// <summary>The ints of shared state one barrier needs.</summary>
    public const int StateInts = 2;

    /// <summary>A barrier of one member, which never waits.</summary>
    public static SpinBarrier Alone => new(null, 1);

    /// <summary>How many members meet at the barrier.</summary>
    public int Members => members;

    /// <summary>
    /// Waits until every member has arrived. After a member of the running gang failed, the others leave with
    /// <see cref="OperationCanceledException"/> instead of waiting forever.
    /// </summary>
    public void Wait()
    {
        if (members <= 1)
        {
            return;
        }

        int generation = Volatile.Read(ref state[1]);
        if (Interlocked.Increment(ref state[0]) == members)
        {
            // The others spin until the generation moves, so none arrives again before the count is reset.
            Volatile.Write(ref state[0], 0);
            Volatile.Write(ref state[1], generation + 1);
            return;
        }

        var spinner = default(SpinWait);
        while (Volatile.Read(ref state[1]) == generation)
        {
            CpuThreadTeam.ThrowIfGangFailed();
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
