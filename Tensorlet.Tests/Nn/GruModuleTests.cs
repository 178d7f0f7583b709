using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Nn;

/// <summary>The GRU as a module: it trains inside a Sequential with no backward code of its own, and carries its state as the LSTM does.</summary>
public sealed class GruModuleTests
{
    [Test]
    public void AGruClassifierLearnsToRecallTheFirstTokenEndToEnd()
    {
        // Each label is the first of 6 tokens; only a recurrent state that remembers it can predict it from the last step.
        const int Steps = 6, Batch = 24, Vocabulary = 4;
        using var device = Device.Create("cpu");
        var random = new Random(3);
        var sequences = Enumerable.Range(0, Batch).Select(_ => Enumerable.Range(0, Steps).Select(_ => random.Next(Vocabulary)).ToArray()).ToArray();
        int[] timeMajor = [.. Enumerable.Range(0, Steps * Batch).Select(i => sequences[i % Batch][i / Batch])];
        using var x = device.IndexFromArray(timeMajor, Steps, Batch);
        int[] labels = [.. sequences.Select(s => s[0])];
        using var targets = device.IndexFromArray(labels, Batch);
        using var model = new Sequential(new Embedding(Vocabulary, 8), new Gru(8, 16, 2, dropout: 0.1f), new Slice(-1, 1), new Linear(16, Vocabulary));
        model.Build(device, seed: 4);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new AdamW(model.Parameters, 0.02f);
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            optimizer.ZeroGradients();
            model.SetRandomState(11, (ulong)step);
            last = loss.Forward(model.Forward(x), targets);
            first = step == 0 ? last : first;
            model.Backward(loss.Backward());
            optimizer.Step();
        }

        Assert.That(first, Is.GreaterThan(1.0), "untrained");
        Assert.That(last, Is.LessThan(0.05), "trained");
        using var predicted = device.IndexZeros(Batch);
        var logits = model.Eval().Forward(x);
        Ops.ArgmaxRows(logits.Reshape(Batch, Vocabulary), predicted);
        Assert.That(predicted.ToArray(), Is.EqualTo(labels));
    }

    [Test]
    public void TheGruCarriesItsStateAcrossBatchesAsOneLongRunAndResetsIt()
    {
        const int Steps = 5, Batch = 3, Input = 4;
        using var device = Device.Create("cpu");
        using var gru = new Gru(Input, 6, 2);
        gru.Build(device, seed: 9);
        gru.Eval();
        var random = new Random(1);
        float[] first = [.. Enumerable.Range(0, Steps * Batch * Input).Select(_ => random.NextSingle() - 0.5f)];
        float[] second = [.. Enumerable.Range(0, Steps * Batch * Input).Select(_ => random.NextSingle() - 0.5f)];
        using var x1 = device.FromArray(first, Steps, Batch, Input);
        using var x2 = device.FromArray(second, Steps, Batch, Input);
        using var whole = device.FromArray([.. first, .. second], 2 * Steps, Batch, Input);
        var expected = gru.Forward(whole).ToArray()[(Steps * Batch * 6)..];
        var fresh = gru.Forward(x2).ToArray();
        Assert.That(fresh, Is.Not.EqualTo(expected), "the state changes the output");

        gru.CarryState = true;
        gru.ResetState();
        gru.Forward(x1);
        var carried = gru.Forward(x2).ToArray();
        Assert.That(carried, Is.EqualTo(expected).Within(1e-6f), "carried state = one long run");

        gru.ResetState();
        Assert.That(gru.Forward(x2).ToArray(), Is.EqualTo(fresh), "after a reset the GRU starts from zeros");

        gru.CarryState = false;
        using var afterFirst = gru.CreateState(device, Batch);
        gru.Forward(x1);
        for (int k = 0; k < 2; k++)
        {
            Ops.Copy(gru.FinalState!.Hidden[k], afterFirst.Hidden[k]);
        }

        gru.InitialState = afterFirst;
        Assert.That(gru.Forward(x2).ToArray(), Is.EqualTo(carried), "an explicit initial state = the carried one");
    }
}
