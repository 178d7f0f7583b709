using Tensorlet.Backends;

namespace Tensorlet.Nn;

/// <summary>
/// The RNN's part of two stacked layers run as one wavefront where the device schedules them together
/// (<see cref="Ops.TryRnnWavefrontForward"/>): the results are those of running them one after the other.
/// </summary>
public sealed partial class Rnn
{
    private protected override bool TryWavefrontForward(int k, RnnLayer lower, RnnLayer upper, Tensor upperInput, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
        => Ops.TryRnnWavefrontForward(LayerTensors(lower), upperInput, mask.Probability, mask.Seed, mask.Stream, upper.WeightIh.Value, biases[k + 1].Bias!, LayerTensors(upper), activation, steps, batch);

    private protected override (Tensor InputProjection, Tensor RecurrentProjection, Tensor BelowInputProjection, Tensor BelowRecurrentProjection)? TryWavefrontBackward(
        int k, RnnLayer upper, RnnLayer lower, Tensor dH, Tensor belowGradient, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
    {
        var device = dH.Device;
        // Each layer's d(pre) goes over its saved preactivations, as in BackwardCells.
        var (dPre, belowDPre) = (upper.GatesAll!, lower.GatesAll!);
        var (u, l) = (biases[k], biases[k - 1]);
        bool ran = Ops.TryRnnWavefrontBackward(
            new RnnLayerGradientTensors(upper.HiddenAll!, dH, dPre, u.Gradient(device, HiddenSize), upper.WeightHh.Value),
            upper.WeightIh.Value,
            mask.Probability,
            mask.Seed,
            mask.Stream,
            new RnnLayerGradientTensors(lower.HiddenAll!, belowGradient, belowDPre, l.Gradient(device, HiddenSize), lower.WeightHh.Value),
            activation,
            steps,
            batch);
        u.GradientSummed = l.GradientSummed = ran;

        // The input and the recurrent projections share the preactivations, so they share their gradient.
        return ran ? (dPre, dPre, belowDPre, belowDPre) : null;
    }

    private static RnnLayerTensors LayerTensors(RnnLayer layer)
        => new(layer.GatesAll!, layer.HiddenAll!, layer.InitialHidden!, layer.HasInitialHidden, layer.WeightHh.Value);
}
