using Tensorlet.Backends;

namespace Tensorlet.Nn;

/// <summary>
/// The LSTM's part of two stacked layers run as one wavefront where the device schedules them together
/// (<see cref="Ops.TryLstmWavefrontForward"/>): the results are those of running them one after the other.
/// </summary>
public sealed partial class Lstm
{
    private readonly Workspace wavefrontCellGradient = new();

    private protected override bool TryWavefrontForward(int k, RnnLayer lower, RnnLayer upper, Tensor upperInput, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
        => Ops.TryLstmWavefrontForward(LayerTensors(k, lower), upperInput, mask.Probability, mask.Seed, mask.Stream, upper.WeightIh.Value, cells[k + 1].Biases.Bias!, LayerTensors(k + 1, upper), steps, batch);

    private protected override (Tensor InputProjection, Tensor RecurrentProjection, Tensor BelowInputProjection, Tensor BelowRecurrentProjection)? TryWavefrontBackward(
        int k, RnnLayer upper, RnnLayer lower, Tensor dH, Tensor belowGradient, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
    {
        var device = dH.Device;
        // Each layer's d(pre) goes over its saved gates, as in BackwardCells.
        var dPre = upper.GatesAll!;
        var dc = cellGradient.Get(device, batch, HiddenSize);
        var belowDPre = lower.GatesAll!;
        var belowDc = wavefrontCellGradient.Get(device, batch, HiddenSize);
        Ops.Fill(dc, 0f);
        Ops.Fill(belowDc, 0f);
        var (u, l) = (cells[k], cells[k - 1]);
        bool ran = Ops.TryLstmWavefrontBackward(
            new LstmLayerGradientTensors(upper.GatesAll!, u.CellsAll!, u.InitialCell!, dH, dc, dPre, u.Biases.Gradient(device, 4 * HiddenSize), upper.WeightHh.Value),
            upper.WeightIh.Value,
            mask.Probability,
            mask.Seed,
            mask.Stream,
            new LstmLayerGradientTensors(lower.GatesAll!, l.CellsAll!, l.InitialCell!, belowGradient, belowDc, belowDPre, l.Biases.Gradient(device, 4 * HiddenSize), lower.WeightHh.Value),
            steps,
            batch);
        u.Biases.GradientSummed = l.Biases.GradientSummed = ran;

        // The input and the recurrent projections share the preactivations, so they share their gradient.
        return ran ? (dPre, dPre, belowDPre, belowDPre) : null;
    }

    private LstmLayerTensors LayerTensors(int k, RnnLayer layer)
        => new(layer.GatesAll!, cells[k].CellsAll!, layer.HiddenAll!, layer.InitialHidden!, cells[k].InitialCell!, layer.HasInitialHidden, layer.WeightHh.Value);
}
