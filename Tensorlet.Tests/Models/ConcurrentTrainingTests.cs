using NUnit.Framework;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// Two models trained at once from two threads share the process's CPU worker team: one gets it, the other runs
/// its loops on its own thread. Both must train exactly as they do alone (the kernels' floats do not depend on
/// which thread computes them).
/// </summary>
public sealed class ConcurrentTrainingTests
{
    [Test]
    public void TwoLstmsTrainedAtOnceMatchTheSameTrainingDoneAlone()
    {
        float[] alone = Train(seed: 1), other = Train(seed: 2);
        var together = new float[2][];
        var threads = new[] { 1, 2 }.Select((seed, i) => new Thread(() => together[i] = Train(seed))).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            Assert.That(thread.Join(TimeSpan.FromMinutes(2)), Is.True, "a training never finished");
        }

        Assert.That(together[0], Is.EqualTo(alone), "model 1");
        Assert.That(together[1], Is.EqualTo(other), "model 2");
    }

    /// <summary>Four Adam steps of a 2×64 LSTM (the cpu's fused recurrence) on its own 2-thread cpu device; returns every weight.</summary>
    private static float[] Train(int seed)
    {
        const int vocabulary = 12, steps = 20, batch = 8;
        using var device = Device.Create("cpu", 2);
        var random = new Random(seed);
        var source = new SequenceBatchSource(Enumerable.Range(0, 4 * batch * (steps + 1)).Select(_ => random.Next(vocabulary)).ToArray(), steps + 1);
        using var model = new LstmCharModel(device, vocabulary, 64, 2, dropout: 0.5f, seed: seed);
        using var adam = new Adam(model.Parameters, 0.01f);
        using var buffers = new BatchBuffers<int, int>(device, source, batch);
        for (int step = 0; step < 4; step++)
        {
            var (inputs, targets) = buffers.Load(Enumerable.Range(step * batch, batch).ToArray());
            adam.ZeroGradients();
            model.ForwardLoss((IndexTensor)inputs, (IndexTensor)targets, batch, training: true, step: step + 1);
            model.Backward();
            adam.Step();
        }

        return model.Parameters.Parameters.SelectMany(p => p.Value.ToArray()).ToArray();
    }
}
