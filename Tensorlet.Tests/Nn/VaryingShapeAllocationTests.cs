using NUnit.Framework;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Batches whose sequence length T and batch size B change from one batch to the next (T = 7, 13, 7, 13, ..., and a short
/// last batch) allocate nothing once each shape has been seen: every module keeps the views of its recent shapes.
/// </summary>
public sealed class VaryingShapeAllocationTests
{
    // (T, B) in turn: two lengths, and the second also as a short last batch.
    private static readonly (int Steps, int Batch)[] Shapes = [(7, 4), (13, 4), (7, 4), (13, 3)];

    [TestCase("lstm", false, false)]
    [TestCase("lstm", true, false)]
    [TestCase("lstm", false, true)]
    [TestCase("lstm", true, true)]
    [TestCase("gru", false, false)]
    [TestCase("gru", true, false)]
    [TestCase("gru", false, true)]
    [TestCase("gru", true, true)]
    [TestCase("rnn", false, false)]
    [TestCase("rnn", true, false)]
    [TestCase("rnn", false, true)]
    [TestCase("rnn", true, true)]
    public void ARecurrentModuleAllocatesNothingOnceItHasSeenEachShape(string cell, bool batchFirst, bool bidirectional)
    {
        using var device = Device.Create("cpu", 1);
        using Module rnn = cell switch
        {
            "gru" => new Gru(5, 6, 2, dropout: 0.3f, batchFirst, bidirectional),
            "rnn" => new Rnn(5, 6, 2, RnnNonlinearity.Relu, dropout: 0.3f, batchFirst, bidirectional),
            _ => new Lstm(5, 6, 2, dropout: 0.3f, batchFirst, bidirectional),
        };
        rnn.Build(device, seed: 1);
        var inputs = Inputs(device, s => batchFirst ? [s.Batch, s.Steps, 5] : [s.Steps, s.Batch, 5]);
        AssertNoAllocationOnceWarm(device, i =>
        {
            var y = rnn.Forward(inputs[i]);
            rnn.Backward(y);
        });
    }

    /// <summary>
    /// The carry pattern: each Forward starts from the final state of the Forward before it, given as the InitialState
    /// right after it, where the batch sizes match.
    /// </summary>
    [TestCase("lstm", false)]
    [TestCase("lstm", true)]
    [TestCase("gru", false)]
    [TestCase("gru", true)]
    [TestCase("rnn", false)]
    [TestCase("rnn", true)]
    public void ARecurrentModuleStartedFromItsFinalStateAllocatesNothingOnceItHasSeenEachShape(string cell, bool bidirectional)
    {
        using var device = Device.Create("cpu", 1);
        var lstm = cell == "lstm" ? new Lstm(5, 6, 2, bidirectional: bidirectional) : null;
        var gru = cell == "gru" ? new Gru(5, 6, 2, bidirectional: bidirectional) : null;
        var elman = cell == "rnn" ? new Rnn(5, 6, 2, bidirectional: bidirectional) : null;
        using Module rnn = (Module?)lstm ?? (Module?)gru ?? elman!;
        rnn.Build(device, seed: 1);
        var inputs = Inputs(device, s => [s.Steps, s.Batch, 5]);
        AssertNoAllocationOnceWarm(device, i =>
        {
            int batch = Shapes[i].Batch;
            if (lstm is not null)
            {
                lstm.InitialState = lstm.FinalState?.Batch == batch ? lstm.FinalState : null;
            }
            else if (gru is not null)
            {
                gru.InitialState = gru.FinalState?.Batch == batch ? gru.FinalState : null;
            }
            else
            {
                elman!.InitialState = elman.FinalState?.Batch == batch ? elman.FinalState : null;
            }

            rnn.Backward(rnn.Forward(inputs[i]));
        });
    }

    /// <summary>Modules of float input [T, B, 5] (Slice along T, and along B as a batch-first model's last step; Permute each way it moves elements).</summary>
    [TestCaseSource(nameof(DenseModules))]
    public void AModuleAllocatesNothingOnceItHasSeenEachShape(Func<Module> create)
    {
        using var device = Device.Create("cpu", 1);
        using var module = create();
        module.Build(device, seed: 1);
        var inputs = Inputs(device, s => [s.Steps, s.Batch, 5]);
        AssertNoAllocationOnceWarm(device, i => module.Backward(module.Forward(inputs[i])));
    }

    /// <summary>Modules of token ids [T, B] in [0, 5).</summary>
    [TestCaseSource(nameof(IdModules))]
    public void AModuleOnTokenIdsAllocatesNothingOnceItHasSeenEachShape(Func<Module> create)
    {
        using var device = Device.Create("cpu", 1);
        using var module = create();
        module.Build(device, seed: 1);
        var ids = Ids(device, s => [s.Steps, s.Batch], 5);
        AssertNoAllocationOnceWarm(device, i => module.Backward(module.Forward(ids[i])));
    }

    [Test]
    public void BatchNorm1dAllocatesNothingOnceItHasSeenEachShape()
    {
        // [N, C, L] with L = T, and [N·L, C] rows.
        using var device = Device.Create("cpu", 1);
        using var norm = new BatchNorm1d(5);
        norm.Build(device, seed: 1);
        var sequences = Inputs(device, s => [s.Batch, 5, s.Steps]);
        var rows = Inputs(device, s => [s.Batch * s.Steps, 5]);
        AssertNoAllocationOnceWarm(device, i =>
        {
            norm.Backward(norm.Forward(sequences[i]));
            norm.Backward(norm.Forward(rows[i]));
        });
    }

    [Test]
    public void CrossEntropyLossAllocatesNothingOnceItHasSeenEachShape()
    {
        using var device = Device.Create("cpu", 1);
        using var loss = new CrossEntropyLoss();
        var logits = Inputs(device, s => [s.Steps, s.Batch, 5]);
        var targets = Ids(device, s => [s.Steps, s.Batch], 5);
        AssertNoAllocationOnceWarm(device, i =>
        {
            loss.Forward(logits[i], targets[i]);
            loss.Backward();
        });
    }

    /// <summary>
    /// The Trainer's step (batch buffers, Forward, loss, Backward, clipping, Adam) over sequences of two lengths in turn,
    /// 7 and 13, each source ending with a short batch, on a batch-first classifier: Embedding → LSTM → dropout → last
    /// step → Linear.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void TheTrainingStepAllocatesNothingOnceItHasSeenEachShape(int threads)
    {
        using var device = Device.Create("cpu", threads);
        using var model = new Sequential(new Embedding(10, 8, paddingIdx: 0), new Lstm(8, 16, 2, dropout: 0.2f, batchFirst: true), new Dropout(0.1f), new Slice(-1, 1, dim: 1), new Linear(16, 4));
        model.Build(device, seed: 1);
        using var loss = new CrossEntropyLoss();
        using var adam = new Adam(model.Parameters, 0.01f);
        var random = new Random(2);
        TensorBatchSource<int, int> Source(int steps) => new([.. Enumerable.Range(0, 6 * steps).Select(_ => random.Next(10))], [steps], [.. Enumerable.Range(0, 6).Select(_ => random.Next(4))], [1]);
        using var shortSteps = new TrainingStep<int, int>(model, loss, adam, Source(7), batchSize: 4, gradientClipNorm: 1.0, seed: 3);
        using var longSteps = new TrainingStep<int, int>(model, loss, adam, Source(13), batchSize: 4, gradientClipNorm: 1.0, seed: 3);
        int[] full = [0, 1, 2, 3];
        int[] last = [4, 5];
        long step = 0;
        double value = 0;
        AssertNoAllocationOnceWarm(device, i => value = (i % 2 == 0 ? shortSteps : longSteps).Run(i < 2 ? full : last, ++step));
        Assert.That(double.IsFinite(value), Is.True, "the loss");
    }

    private static IEnumerable<TestCaseData> DenseModules() =>
    [
        Case("Linear", () => new Linear(5, 3)),
        Case("Dropout", () => new Dropout(0.5f)),
        Case("LayerNorm", () => new LayerNorm(5)),
        Case("Slice", () => new Slice(-1, 1)),
        Case("Slice dim 1", () => new Slice(-1, 1, dim: 1)),
        Case("Permute rows", () => new Permute(1, 0, 2)),
        Case("Permute transpose", () => new Permute(0, 2, 1)),
        Case("Permute rows then transpose", () => new Permute(2, 1, 0)),
    ];

    private static IEnumerable<TestCaseData> IdModules() =>
    [
        Case("Linear", () => new Linear(5, 3)),
        Case("Embedding", () => new Embedding(5, 3, paddingIdx: 0)),
        Case("Lstm batch-first", () => new Lstm(5, 6, 2, batchFirst: true)),
        Case("Gru", () => new Gru(5, 6, 2)),
        Case("Rnn", () => new Rnn(5, 6, 2)),
    ];

    private static TestCaseData Case(string name, Func<Module> create) => new TestCaseData(create).SetArgDisplayNames(name);

    // One tensor of random values per shape of Shapes, owned by the device.
    private static Tensor[] Inputs(Device device, Func<(int Steps, int Batch), int[]> shape)
    {
        var random = new Random(1);
        return [.. Shapes.Select(s => shape(s)).Select(dims => device.FromArray([.. Enumerable.Range(0, dims.Aggregate(1, (a, d) => a * d)).Select(_ => random.NextSingle() - 0.5f)], dims))];
    }

    // One tensor of ids in [0, vocabulary) per shape of Shapes, owned by the device.
    private static IndexTensor[] Ids(Device device, Func<(int Steps, int Batch), int[]> shape, int vocabulary)
    {
        var random = new Random(1);
        return [.. Shapes.Select(s => shape(s)).Select(dims => device.IndexFromArray([.. Enumerable.Range(0, dims.Aggregate(1, (a, d) => a * d)).Select(_ => random.Next(vocabulary))], dims))];
    }

    /// <summary>
    /// Runs <paramref name="step"/> for each shape of <see cref="Shapes"/> in turn, twice over, then asserts that the cleanest
    /// of up to 4 windows of three rounds allocates no managed byte and no device buffer (the cleanest, as
    /// TrainingAllocationTests, for a one-time allocation of the thread team on a loaded machine).
    /// </summary>
    private static void AssertNoAllocationOnceWarm(Device device, Action<int> step)
    {
        for (int i = 0; i < 2 * Shapes.Length; i++)
        {
            step(i % Shapes.Length);
        }

        long deviceBefore = device.AllocationCount;
        long cleanest = long.MaxValue;
        for (int window = 0; window < 4 && cleanest > 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3 * Shapes.Length; i++)
            {
                step(i % Shapes.Length);
            }

            cleanest = Math.Min(cleanest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.That(cleanest, Is.Zero, "managed bytes allocated in the cleanest window of steps over every shape");
        Assert.That(device.AllocationCount - deviceBefore, Is.Zero, "device buffers allocated once every shape was seen");
    }
}
