namespace Tensorlet.Nn;

/// <summary>
/// Views of flat buffers laid out as a <see cref="ParameterCollection"/> (its values, its gradients, an optimizer's
/// moments), cut to the runs of consecutive parameters that require a gradient and, for an optimizer with parameter
/// groups, are in the same group: the whole buffers, one run, when none is frozen and there is one group. The views are
/// made again only when a parameter is frozen or unfrozen, so a training step allocates nothing.
/// </summary>
internal sealed class TrainableRuns
{
    private readonly ParameterCollection collection;
    private readonly IReadOnlyList<int>? groups;
    private readonly Tensor[] buffers;
    private readonly List<TrainableRun> runs = [];
    private int version = -1;

    /// <summary>Views of <paramref name="buffers"/>, each as long as the collection, all in group 0.</summary>
    public TrainableRuns(ParameterCollection collection, params Tensor[] buffers)
        : this(collection, null, buffers)
    {
    }

    /// <summary>
    /// Views of <paramref name="buffers"/>, each as long as the collection, cut where <paramref name="groups"/> (the group
    /// of each parameter, -1 for a frozen one in none) changes; null puts every parameter in group 0.
    /// </summary>
    public TrainableRuns(ParameterCollection collection, IReadOnlyList<int>? groups, params Tensor[] buffers)
    {
        this.collection = collection;
        this.groups = groups;
        this.buffers = buffers;
    }

    /// <summary>The runs, each with the buffers' views in the order given; empty when every parameter is frozen.</summary>
    /// <exception cref="InvalidOperationException">A parameter in no group requires a gradient (it was unfrozen).</exception>
    public List<TrainableRun> Runs
    {
        get
        {
            if (version != collection.TrainableVersion)
            {
                Cut();
                version = collection.TrainableVersion;
            }

            return runs;
        }
    }

    private int GroupOf(int parameter) => groups is null ? 0 : groups[parameter];

    private void Cut()
    {
        var parameters = collection.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].RequiresGradient && GroupOf(i) < 0)
            {
                throw new InvalidOperationException($"Parameter '{parameters[i].Name}' requires a gradient but is in none of the optimizer's parameter groups: freeze it again, or make the optimizer with it in a group.");
            }
        }

        runs.Clear();
        if (parameters.All(p => p.RequiresGradient) && (groups is null || groups.All(g => g == groups[0])))
        {
            runs.Add(new TrainableRun(GroupOf(0), buffers));
            return;
        }

        for (int i = 0; i < parameters.Count;)
        {
            if (!parameters[i].RequiresGradient)
            {
                i++;
                continue;
            }

            int group = GroupOf(i);
            long start = parameters[i].Offset, length = 0;
            for (; i < parameters.Count && parameters[i].RequiresGradient && GroupOf(i) == group; i++)
            {
                length += parameters[i].Length;
            }

            runs.Add(new TrainableRun(group, [.. buffers.Select(b => b.Slice(checked((int)start), checked((int)length)))]));
        }
    }
}

/// <summary>One run of <see cref="TrainableRuns"/>: its parameter group and the views of the buffers.</summary>
/// <param name="Group">The parameter group of every parameter in the run.</param>
/// <param name="Views">The buffers' views, in the order the buffers were given.</param>
internal readonly record struct TrainableRun(int Group, Tensor[] Views)
{
    /// <summary>The view of buffer <paramref name="buffer"/>.</summary>
    public Tensor this[int buffer] => Views[buffer];
}
