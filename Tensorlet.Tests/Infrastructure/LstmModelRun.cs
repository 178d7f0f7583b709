using Tensorlet.Models.Modeling;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// One training-mode forward and backward of a small two-layer-or-more LSTM char model on random ids: the per-position
/// losses and every parameter gradient, to compare the same model across devices or kernel paths. With an initial state,
/// layer 0's h and the last layer's c start from random values (the other entries from zero).
/// </summary>
internal sealed class LstmModelRun
{
    private readonly int vocabulary;
    private readonly int hidden;
    private readonly int layers;
    private readonly int steps;
    private readonly int batch;
    private readonly int[] ids;
    private readonly int[] targets;
    private readonly float[] initialHidden;
    private readonly float[] initialCell;

    /// <summary>Draws the ids, targets and initial state from <paramref name="dataSeed"/>.</summary>
    public LstmModelRun(int vocabulary, int hidden, int layers, int steps, int batch, int dataSeed)
    {
        (this.vocabulary, this.hidden, this.layers, this.steps, this.batch) = (vocabulary, hidden, layers, steps, batch);
        var rng = new Random(dataSeed);
        ids = Enumerable.Range(0, steps * batch).Select(_ => rng.Next(vocabulary)).ToArray();
        targets = Enumerable.Range(0, steps * batch).Select(_ => rng.Next(vocabulary)).ToArray();
        initialHidden = Uniform(rng, batch * hidden, 0.5f);
        initialCell = Uniform(rng, batch * hidden, 0.5f);
    }

    /// <summary>Builds the model from <paramref name="modelSeed"/> on <paramref name="device"/> and runs it once.</summary>
    public (float[] Losses, Dictionary<string, float[]> Gradients) Run(Device device, int modelSeed, bool withInitialState = true)
    {
        using var model = new LstmCharModel(device, vocabulary, hidden, layers, dropout: 0f, seed: modelSeed);
        using var state = model.Lstm.CreateState(device, batch);
        state.Hidden[0].CopyFrom(initialHidden);
        state.Cell[layers - 1].CopyFrom(initialCell);
        using var x = device.IndexFromArray(ids, ids.Length);
        using var y = device.IndexFromArray(targets, targets.Length);
        using var losses = device.Zeros(steps * batch, 1);
        model.Parameters.ZeroGradients();
        var logits = model.Logits(x, batch, training: true, step: 1, withInitialState ? state : null, null);
        Ops.SoftmaxCrossEntropy(logits, y, losses, logits, 1f / (steps * batch));
        model.Lstm.Backward(model.Output.Backward(logits)!);
        return (losses.ToArray(), model.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Gradient.ToArray()));
    }

    private static float[] Uniform(Random rng, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale).ToArray();
}
