namespace Tensorlet.Nn;

/// <summary>Per-step [B, X] views of a time-major [T·B, X] tensor, cached so a training step makes no new views once warm.</summary>
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
}
