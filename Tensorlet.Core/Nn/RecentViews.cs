namespace Tensorlet.Nn;

/// <summary>
/// The views one cache site made most recently, each keyed by the buffer it views (its storage and the offset of its
/// first element) and a shape, so that a module fed batches of a few shapes in turn (sequences whose length T varies,
/// a short last batch) makes each view once and then allocates nothing. It holds at most <see cref="Capacity"/> views
/// and evicts the one used least recently: a model fed more shapes than that in turn remakes views, a few small
/// objects per batch, but never holds more. A view owns no buffer, so the cache holds no device memory of its own.
/// </summary>
/// <typeparam name="TView">A view, or a set of views made together (one per step).</typeparam>
internal sealed class RecentViews<TView>
    where TView : class
{
    /// <summary>The most views one cache site holds.</summary>
    public const int Capacity = 8;

    private readonly Entry[] entries = new Entry[Capacity];
    private long clock;

    /// <summary>The view kept for (<paramref name="storage"/>, <paramref name="offset"/>, <paramref name="shape"/>), marked as just used; null when there is none.</summary>
    public TView? Find(object storage, long offset, ReadOnlySpan<int> shape)
    {
        int i = IndexOf(storage, offset, shape);
        if (i < 0)
        {
            return null;
        }

        entries[i].LastUse = ++clock;
        return entries[i].View;
    }

    /// <summary>Keeps <paramref name="view"/> for the key, in place of the view kept for it or of the least recently used one.</summary>
    public TView Add(object storage, long offset, ReadOnlySpan<int> shape, TView view)
    {
        int slot = IndexOf(storage, offset, shape);
        if (slot < 0)
        {
            slot = 0;
            for (int i = 1; i < entries.Length; i++)
            {
                if (entries[i].LastUse < entries[slot].LastUse)
                {
                    slot = i;
                }
            }
        }

        entries[slot] = new Entry { Storage = storage, Offset = offset, Shape = shape.ToArray(), View = view, LastUse = ++clock };
        return view;
    }

    /// <summary>Forgets every view (their buffer was replaced).</summary>
    public void Clear() => Array.Clear(entries);

    private int IndexOf(object storage, long offset, ReadOnlySpan<int> shape)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            ref readonly var e = ref entries[i];
            if (ReferenceEquals(e.Storage, storage) && e.Offset == offset && shape.SequenceEqual(e.Shape))
            {
                return i;
            }
        }

        return -1;
    }

    private struct Entry
    {
        public object? Storage;
        public long Offset;
        public int[] Shape;
        public TView? View;
        public long LastUse;
    }
}
