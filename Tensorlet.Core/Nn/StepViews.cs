namespace Tensorlet.Nn;

/// <summary>Views of a time-major [T·B, X] tensor (per step, or a range of rows), cached so a training step makes no new views once warm.</summary>
internal static class StepViews
{
    public static Tensor[] Of(Tensor all, int steps, int batch, ref Tensor[]? cache)
    {
        if (cache is not null && cache.Length == steps && cache[0].Rows == batch && cache[0].Columns == all.Columns
            && ReferenceEquals(cache[0].Storage, all.Storage) && cache[0].Offset == all.Offset && !cache[0].IsDisposed)
        {
            return cache;
        }

        cache = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            cache[t] = all.Slice(t * batch, batch);
        }

        return cache;
    }

    /// <summary>Rows [start, start + count) of <paramref name="all"/>, reusing <paramref name="cache"/> when it is that view.</summary>
    public static Tensor Rows(Tensor all, int start, int count, ref Tensor? cache)
    {
        long offset = all.Offset + ((long)start * all.Columns);
        if (cache is not null && cache.Rows == count && cache.Columns == all.Columns
            && ReferenceEquals(cache.Storage, all.Storage) && cache.Offset == offset && !cache.IsDisposed)
        {
            return cache;
        }

        cache = all.Slice(start, count);
        return cache;
    }
}
