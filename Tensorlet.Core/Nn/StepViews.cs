namespace Tensorlet.Nn;

/// <summary>
/// The per-step views of a time-major [T·B, X] tensor, step t as rows [t·B, (t + 1)·B) (or of any tensor's T equal
/// blocks of B rows: a grouped <see cref="Conv1d"/>'s groups), cached per buffer and (T, B)
/// (the most recent <see cref="RecentViews{TView}.Capacity"/>) so a training step makes no new views once it has seen
/// each shape of its batches.
/// </summary>
internal static class StepViews
{
    public static Tensor[] Of(Tensor all, int steps, int batch, RecentViews<Tensor[]> cache)
    {
        ReadOnlySpan<int> key = [steps, batch, all.Columns];
        var views = cache.Find(all.Storage, all.Offset, key);
        if (views is not null && !views[0].IsDisposed)
        {
            return views;
        }

        views = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            views[t] = all.Slice(t * batch, batch);
        }

        return cache.Add(all.Storage, all.Offset, key, views);
    }
}
