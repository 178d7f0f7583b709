using NUnit.Framework;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Nn;

/// <summary>Models built from modules train end to end with the Trainer, allocate nothing per step once warm, and carry LSTM state.</summary>
public sealed class SequentialTrainingTests
{
    [Test]
    public void AnEmbeddingMlpLearnsAMappingWithTrainerAdamWAndStepLR()
    {
        using var device = Device.Create("cpu");
        int[] ids = [.. Enumerable.Range(0, 200).Select(i => i % 20)];
        int[] targets = [.. ids.Select(i => (i * 7) % 5)];
        var source = new WindowBatchSource(ids, targets, new int[ids.Length]);
        using var model = new Sequential(new Embedding(20, 8), new Relu(), new Dropout(0.1f), new Linear(8, 5));
        model.Build(device, seed: 3);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new AdamW(model.Parameters, 0.05f);
        var schedule = new StepLR(optimizer, stepSize: 10, gamma: 0.5);
        var trainer = new Trainer(model, loss, optimizer, new TrainerOptions { Epochs = 25, BatchSize = 20, Seed = 1 }, schedule);
        var result = trainer.Train(source, source);

        Assert.That(result.Epochs[0].Validation!.Loss, Is.GreaterThan(0.5), "untrained");
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.LessThan(0.05), "trained");
        Assert.That(optimizer.LearningRate, Is.EqualTo(0.05f * 0.25f).Within(1e-9f), "StepLR halved the rate after epochs 10 and 20");
        Assert.That(model.Training, Is.True, "validation restores training mode");

        using var x = device.IndexFromArray([.. Enumerable.Range(0, 20)], 20);
        using var predicted = device.IndexZeros(20);
        Ops.ArgmaxRows(model.Eval().Forward(x), predicted);
        Assert.That(predicted.ToArray(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => (i * 7) % 5).ToArray()));
    }

    [Test]
    public void AnLstmSequenceModelLearnsAPatternWithSgdAndWarmupCosinePerBatch()
    {
        using var device = Device.Create("cpu");
        int[] text = [.. Enumerable.Range(0, 400).Select(i => "abcab"[i % 5] - 'a')];
        var source = new SequenceBatchSource(text, 20);
        using var model = new Sequential(new Embedding(3, 8), new Lstm(8, 16), new Linear(16, 3));
        model.Build(device, seed: 2);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Sgd(model.Parameters, 0.5f, momentum: 0.9f, nesterov: true);
        var options = new TrainerOptions { Epochs = 30, BatchSize = 5, Seed = 4, ScheduleEveryBatch = true, GradientClipNorm = 1.0 };
        int batches = 30 * ((source.Count + 4) / 5);
        var trainer = new Trainer(model, loss, optimizer, options, new WarmupCosineLR(optimizer, 10, batches));
        var result = trainer.Train(source, source);
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.LessThan(0.35 * result.Epochs[0].Validation!.Loss));
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.LessThan(0.2));
    }

    /// <summary>
    /// Time-major, and batch-first (the same ids read as [B, T]) on token ids straight into the recurrent module or through
    /// an Embedding (dense input), which adds the reordering's buffers and permutations; the batch-first model classifies
    /// each sequence from its last step, a Slice along dim 1 (a gather with its own buffers and row indices); and
    /// bidirectional, whose reverse direction and interleaved output add their own buffers and permutations; and with T
    /// changing every step (after one step of the longest), which rewrites the permutations in place.
    /// </summary>
    [TestCase(1, "lstm", false, true, false, false)]
    [TestCase(2, "lstm", false, true, false, false)]
    [TestCase(1, "gru", false, true, false, false)]
    [TestCase(2, "gru", false, true, false, false)]
    [TestCase(1, "lstm", true, true, false, false)]
    [TestCase(2, "lstm", true, false, false, false)]
    [TestCase(1, "gru", true, false, false, false)]
    [TestCase(2, "gru", true, true, false, false)]
    [TestCase(1, "lstm", false, true, true, false)]
    [TestCase(2, "lstm", true, false, true, false)]
    [TestCase(2, "gru", false, false, true, false)]
    [TestCase(1, "gru", true, true, true, false)]
    [TestCase(1, "lstm", false, true, false, true)]
    [TestCase(1, "lstm", false, false, true, true)]
    [TestCase(2, "gru", true, true, true, true)]
    [TestCase(1, "lstm", true, false, false, true)]
    [TestCase(2, "rnn", false, true, false, false)]
    [TestCase(1, "rnn", true, false, true, true)]
    public void ASequentialTrainingStepAllocatesNothingOnceWarm(int threads, string cell, bool batchFirst, bool embedding, bool bidirectional, bool varyingSteps)
    {
        using var device = Device.Create("cpu", threads);
        var random = new Random(5);
        var source = new SequenceBatchSource([.. Enumerable.Range(0, 16 * 31).Select(_ => random.Next(32))], 31);
        int width = embedding ? 16 : 32;
        Module recurrent = cell switch
        {
            "gru" => new Gru(width, 64, 2, dropout: 0.5f, batchFirst, bidirectional),
            "rnn" => new Rnn(width, 64, 2, dropout: 0.5f, batchFirst: batchFirst, bidirectional: bidirectional),
            _ => new Lstm(width, 64, 2, dropout: 0.5f, batchFirst, bidirectional),
        };
        Module[] lastStep = batchFirst ? [new Slice(-1, 1, dim: 1)] : [];
        using var model = new Sequential([.. embedding ? [new Embedding(32, 16)] : Array.Empty<Module>(), recurrent, new Dropout(0.2f), .. lastStep, new Linear(bidirectional ? 128 : 64, 32)]);
        model.Build(device, seed: 1);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Sgd(model.Parameters, 0.1f, momentum: 0.9f);
        using var buffers = new BatchBuffers<int, int>(device, source, 16);
        var examples = Enumerable.Range(0, 16).ToArray();
        var (flat, allTargets) = buffers.Load(examples);
        // Varying: each step takes the next length, the longest first, as a prefix of the batch's ids (and targets).
        int[] lengths = varyingSteps ? [source.InputsPerExample, 20, 13, 17, 9] : [source.InputsPerExample];
        var inputs = lengths.Select(t => batchFirst ? ((IndexTensor)flat).Slice(0, 16 * t).Reshape(16, t) : ((IndexTensor)flat).Slice(0, 16 * t).Reshape(t, 16)).ToArray();
        var targets = lengths.Select(t => batchFirst ? ((IndexTensor)allTargets).Slice(0, 16) : ((IndexTensor)allTargets).Slice(0, 16 * t)).ToArray();
        ulong step = 0;
        double last = 0;
        void Step()
        {
            buffers.Load(examples);
            optimizer.ZeroGradients();
            model.SetRandomState(7, ++step);
            int i = (int)((step - 1) % (ulong)lengths.Length);
            last = loss.Forward(model.Forward(inputs[i]), targets[i]);
            model.Backward(loss.Backward());
            GradientClipping.ClipGradientNorm(model.Parameters, 1.0);
            optimizer.Step();
        }

        for (int i = 0; i < Math.Max(3, lengths.Length); i++)
        {
            Step();
        }

        // The cleanest of up to 4 windows of 5 steps, as TrainingAllocationTests (see there why): a one-time
        // allocation by the thread team's slow path on a loaded machine lands in one window only; an allocation in
        // every few steps shows up in every window and fails.
        long deviceBefore = device.AllocationCount;
        long cleanest = long.MaxValue;
        for (int window = 0; window < 4 && cleanest > 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
            {
                Step();
            }

            cleanest = Math.Min(cleanest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // With varying T the device buffers, permutations and ids included, are the ones the longest batch made, and the
        // modules' views of them are those each length made the first time.
        Assert.That(cleanest, Is.Zero, "managed bytes allocated in the cleanest window of 5 steady-state steps");

        Assert.That(device.AllocationCount - deviceBefore, Is.Zero, "device buffers allocated in steady state");
        Assert.That(double.IsFinite(last));
    }

    [Test]
    public void TheLstmCarriesItsStateAcrossBatchesAndResetsIt()
    {
        using var device = Device.Create("cpu");
        using var lstm = new Lstm(4, 6, 2);
        lstm.Build(device, seed: 9);
        lstm.Eval();
        var random = new Random(1);
        using var x1 = device.FromArray([.. Enumerable.Range(0, 5 * 3 * 4).Select(_ => random.NextSingle() - 0.5f)], 5, 3, 4);
        using var x2 = device.FromArray([.. Enumerable.Range(0, 5 * 3 * 4).Select(_ => random.NextSingle() - 0.5f)], 5, 3, 4);

        lstm.Forward(x1);
        using var afterFirst = lstm.CreateState(device, 3);
        CopyState(lstm.FinalState!, afterFirst);
        var fresh = lstm.Forward(x2).ToArray();

        lstm.InitialState = afterFirst;
        var continued = lstm.Forward(x2).ToArray();
        lstm.InitialState = null;
        Assert.That(continued, Is.Not.EqualTo(fresh), "the state changes the output");

        lstm.CarryState = true;
        lstm.ResetState();
        lstm.Forward(x1);
        Assert.That(lstm.Forward(x2).ToArray(), Is.EqualTo(continued), "carried state = the first batch's final state");
        lstm.ResetState();
        Assert.That(lstm.Forward(x2).ToArray(), Is.EqualTo(fresh), "after a reset the LSTM starts from zeros");
    }

    private static void CopyState(LstmState from, LstmState to)
    {
        for (int k = 0; k < from.Hidden.Count; k++)
        {
            Ops.Copy(from.Hidden[k], to.Hidden[k]);
            Ops.Copy(from.Cell[k], to.Cell[k]);
        }
    }
}
