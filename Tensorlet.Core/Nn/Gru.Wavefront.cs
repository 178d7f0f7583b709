using Tensorlet.Backends;

namespace Tensorlet.Nn;

/// <summary>
/// The GRU's part of two stacked layers run as one wavefront where the device schedules them together
/// (<see cref="Ops.TryGruWavefrontForward"/>): the results are those of running them one after the other.
/// </summary>
public sealed partial class Gru
{
    private readonly Workspace wavefrontCarryGradient = new();

    private protected override bool TryWavefrontForward(int k, RnnLayer lower, RnnLayer upper, Tensor upperInput, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
    {
        var biasIh = cells[k + 1].BiasIhRow ??= upper.BiasIh.Value.Reshape(1, 3 * HiddenSize);
        return Ops.TryGruWavefrontForward(LayerTensors(k, lower), upperInput, mask.Probability, mask.Seed, mask.Stream, upper.WeightIh.Value, biasIh, LayerTensors(k + 1, upper), steps, batch);
    }

    private protected override (Tensor InputProjection, Tensor RecurrentProjection, Tensor BelowInputProjection, Tensor BelowRecurrentProjection)? TryWavefrontBackward(
        int k, RnnLayer upper, RnnLayer lower, Tensor dH, Tensor belowGradient, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch)
    {
        var device = dH.Device;
        var (u, l) = (cells[k], cells[k - 1]);

        // Each layer's dgi goes over its saved gates and its dgh over its saved gh, as in BackwardCells.
        var (dGi, dGh) = (upper.GatesAll!, u.RecurrentAll!);
        var (belowGi, belowGh) = (lower.GatesAll!, l.RecurrentAll!);
        var carry = carryGradient.Get(device, batch, HiddenSize);
        var belowCarry = wavefrontCarryGradient.Get(device, batch, HiddenSize);
        Ops.Fill(carry, 0f);
        Ops.Fill(belowCarry, 0f);
        bool ran = Ops.TryGruWavefrontBackward(
            new GruLayerGradientTensors(upper.GatesAll!, u.RecurrentAll!, upper.HiddenAll!, upper.InitialHidden!, dH, carry, dGi, dGh, u.BiasIhGradient(device, HiddenSize), u.BiasHhGradient(device, HiddenSize), upper.WeightHh.Value),
            upper.WeightIh.Value,
            mask.Probability,
            mask.Seed,
            mask.Stream,
            new GruLayerGradientTensors(lower.GatesAll!, l.RecurrentAll!, lower.HiddenAll!, lower.InitialHidden!, belowGradient, belowCarry, belowGi, belowGh, l.BiasIhGradient(device, HiddenSize), l.BiasHhGradient(device, HiddenSize), lower.WeightHh.Value),
            steps,
            batch);
        u.BiasGradientsSummed = l.BiasGradientsSummed = ran;
        return ran ? (dGi, dGh, belowGi, belowGh) : null;
    }

    private GruLayerTensors LayerTensors(int k, RnnLayer layer)
        => new(layer.GatesAll!, cells[k].RecurrentAll!, layer.HiddenAll!, layer.InitialHidden!, layer.HasInitialHidden, layer.WeightHh.Value);
}
