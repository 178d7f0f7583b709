namespace Tensorlet.Nn;

/// <summary>The (h, c) state of a multi-layer LSTM: per layer, h and c of shape [B, H]. Owns its tensors.</summary>
public sealed class LstmState : IDisposable
{
    internal LstmState(Device device, int layers, int batch, int hiddenSize)
    {
        Batch = batch;
        Hidden = [.. Enumerable.Range(0, layers).Select(_ => device.Zeros(batch, hiddenSize))];
        Cell = [.. Enumerable.Range(0, layers).Select(_ => device.Zeros(batch, hiddenSize))];
    }

    /// <summary>The batch size the state was made for.</summary>
    public int Batch { get; }

    /// <summary>h per layer, [B, H] each.</summary>
    public IReadOnlyList<Tensor> Hidden { get; }

    /// <summary>c per layer, [B, H] each.</summary>
    public IReadOnlyList<Tensor> Cell { get; }

    /// <summary>Sets every h and c to zero.</summary>
    public void Reset()
    {
        foreach (var t in Hidden.Concat(Cell))
        {
            Ops.Fill(t, 0f);
        }
    }

    /// <summary>Frees the state's tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Hidden.Concat(Cell))
        {
            t.Dispose();
        }
    }
}
