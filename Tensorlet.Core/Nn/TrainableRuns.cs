namespace Tensorlet.Nn;

/// <summary>
/// Views of flat buffers laid out as a <see cref="ParameterCollection"/> (its values, its gradients, an optimizer's
/// moments), cut to the runs of consecutive parameters that require a gradient: the whole buffers, one run, when none
/// is frozen. The views are made again only when a parameter is frozen or unfrozen, so a training step allocates nothing.
/// </summary>
internal sealed class TrainableRuns
{
    private readonly ParameterCollection collection;
    private readonly Tensor[] buffers;
    private readonly List<Tensor[]> runs = [];
    private int version = -1;

    /// <summary>Views of <paramref name="buffers"/>, each as long as the collection.</summary>
    public TrainableRuns(ParameterCollection collection, params Tensor[] buffers)
    {
        this.collection = collection;
        this.buffers = buffers;
    }

    /// <summary>One array per run, the buffers' views in the order given; empty when every parameter is frozen.</summary>
    public List<Tensor[]> Runs
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

    private void Cut()
    {
        runs.Clear();
        var parameters = collection.Parameters;
        if (parameters.All(p => p.RequiresGradient))
        {
            runs.Add(buffers);
            return;
        }

        for (int i = 0; i < parameters.Count;)
        {
            if (!parameters[i].RequiresGradient)
            {
                i++;
                continue;
            }

            long start = parameters[i].Offset, length = 0;
            for (; i < parameters.Count && parameters[i].RequiresGradient; i++)
            {
                length += parameters[i].Length;
            }

            runs.Add([.. buffers.Select(b => b.Slice(checked((int)start), checked((int)length)))]);
        }
    }
}
