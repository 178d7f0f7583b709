namespace Tensorlet.Nn;

/// <summary>The h state of a multi-layer GRU: per layer (and direction, when bidirectional), h of shape [B, H]. Owns its tensors.</summary>
public sealed class GruState : RnnState
{
    internal GruState(Device device, int layers, int batch, int hiddenSize)
        : base(batch, Zeros(device, layers, batch, hiddenSize))
    {
    }
}
