namespace Tensorlet.Nn;

/// <summary>The h state of a multi-layer GRU: per layer, h of shape [B, H]. Owns its tensors.</summary>
public sealed class GruState : IDisposable
{
    internal GruState(Device device, int layers, int batch, int hiddenSize)
    {
        Batch = batch;
        Hidden = [.. Enumerable.Range(0, layers).Select(_ => device.Zeros(batch, hiddenSize))];
    }

    /// <summary>The batch size the state was made for.</summary>
    public int Batch { get; }

    /// <summary>h per layer, [B, H] each.</summary>
    public IReadOnlyList<Tensor> Hidden { get; }

    /// <summary>Sets every h to zero.</summary>
    public void Reset()
    {
        foreach (var t in Hidden)
        {
            Ops.Fill(t, 0f);
        }
    }

    /// <summary>Frees the state's tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Hidden)
        {
            t.Dispose();
        }
    }
}
