using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>Steady-state training allocates nothing per batch: no device buffer and no managed object.</summary>
public sealed class TrainingAllocationTests
{
    private const int Warmup = 3;
    private const int Measured = 8;

    // Windows of Measured steps tried before the test fails. The thread team's slow paths (waking workers that went
    // to sleep, a contended lock) are taken only when the machine is loaded, and the first time one is taken it can
    // allocate once on this thread (lazily created synchronisation state): 1475 bytes were seen once under heavy load.
    // Such a one-time cost lands in one window only, so a later window is clean; an allocation that happens at least
    // once every Measured steps shows up in every window and still fails the test.
    private const int Windows = 4;

    [TestCase(ModelKind.Lstm, 1)]
    [TestCase(ModelKind.Lstm, 2)]
    [TestCase(ModelKind.Rnn, 1)]
    [TestCase(ModelKind.Rnn, 2)]
    public void AnLstmOrRnnTrainingStepAllocatesNoManagedMemoryOnCpu(ModelKind kind, int threads)
    {
        using var device = Device.Create("cpu", threads);
        var source = Sequences(count: 32, length: 31, vocabulary: 32, seed: 5);
        var spec = kind == ModelKind.Rnn ? CharModelSpec.Rnn(32, 128, 2, 0.5f) : CharModelSpec.Lstm(32, 128, 2, 0.5f);
        using var model = spec.Create(device, seed: 1);
        Assert.That(BytesPerStep(device, model, source, batch: 16), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, 128)]
    [TestCase(2, 128)]
    [TestCase(2, 20)]
    public void AGruTrainingStepAllocatesNoManagedMemoryOnCpu(int threads, int hidden)
    {
        // H = 128 takes the cpu's fused recurrence, H = 20 the step-by-step path.
        using var device = Device.Create("cpu", threads);
        var source = Sequences(count: 32, length: 31, vocabulary: 32, seed: 5);
        using var model = new GruCharModel(device, 32, hidden, 2, dropout: 0.5f, seed: 1);
        Assert.That(BytesPerStep(device, model, source, batch: 16), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void AnNgramTrainingStepAllocatesNoManagedMemoryOnCpu(int threads)
    {
        using var device = Device.Create("cpu", threads);
        var random = new Random(7);
        int examples = 400;
        var ngrams = Enumerable.Range(0, examples).Select(_ => random.Next(3000)).ToArray();
        var targets = Enumerable.Range(0, examples).Select(_ => random.Next(32)).ToArray();
        var positions = Enumerable.Range(0, examples).Select(i => i % 97).ToArray();
        var source = new WindowBatchSource(ngrams, targets, positions);
        using var model = new NgramMlp(device, 3000, 32, 100, Activation.Relu, seed: 1);
        Assert.That(BytesPerStep(device, model, source, batch: 100), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void ALayerNormBetweenLinearsTrainsWithoutAllocatingOnCpu(int threads)
    {
        // [batch, 16, 8] → 1024 rows of 64 at batch 64: enough for two threads in the layer norm's forward and backward.
        using var device = Device.Create("cpu", threads);
        var random = new Random(3);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 16 * 8).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 16 * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [16, 8], targets, [16, 4]);
        using var model = new Sequential(new Linear(8, 64), new LayerNorm(64), new Tanh(), new Linear(64, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void ALogSoftmaxModelTrainsWithNllLossWithoutAllocatingOnCpu(int threads)
    {
        // [batch, 16, 8] → 1024 rows of 64 classes at batch 64, every fifth class id ignored: enough for two threads.
        using var device = Device.Create("cpu", threads);
        var random = new Random(4);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 16 * 8).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var classes = Enumerable.Range(0, examples * 16).Select(i => i % 5 == 0 ? -100 : random.Next(64)).ToArray();
        var source = new TensorBatchSource<float, int>(inputs, [16, 8], classes, [16]);
        using var model = new Sequential(new Linear(8, 64), new LogSoftmax());
        model.Build(device, seed: 1);
        using var loss = new NllLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void ABatchNormBetweenLinearsTrainsWithoutAllocatingOnCpu(int threads)
    {
        // [batch, 16, 8] → Linear → [batch, 16, 64], the batch norm's [N, C, L] with 16 channels: 65536 values at batch 64,
        // enough for two threads in its statistics, forward and backward; and its running statistics updated every step.
        using var device = Device.Create("cpu", threads);
        var random = new Random(4);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 16 * 8).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 16 * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [16, 8], targets, [16, 4]);
        using var model = new Sequential(new Linear(8, 64), new BatchNorm1d(16), new Relu(), new Linear(64, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, "L1Loss")]
    [TestCase(2, "L1Loss")]
    [TestCase(2, "SmoothL1Loss")]
    [TestCase(2, "HuberLoss")]
    [TestCase(1, "BceWithLogitsLoss")]
    [TestCase(2, "BceWithLogitsLoss")]
    public void AValueLossTrainsWithoutAllocatingOnCpu(int threads, string lossName)
    {
        // [batch, 16, 8] → Linear → [batch, 16, 4], 4096 values at batch 64, and a loss over values in [0, 1): the
        // targets of a regression or, for BCE with a pos_weight of one per class, the multi-label targets.
        using var device = Device.Create("cpu", threads);
        var random = new Random(8);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 16 * 8).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 16 * 4).Select(_ => random.NextSingle()).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [16, 8], targets, [16, 4]);
        using var model = new Sequential(new Linear(8, 32), new Relu(), new Linear(32, 4));
        model.Build(device, seed: 1);
        using var posWeight = device.FromArray([0.5f, 1f, 2f, 3f], 4);
        using IDisposable loss = lossName switch
        {
            "L1Loss" => new L1Loss(),
            "SmoothL1Loss" => new SmoothL1Loss(beta: 0.5f),
            "HuberLoss" => new HuberLoss(delta: 0.5f),
            _ => new BceWithLogitsLoss(posWeight: posWeight),
        };
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, 1, PaddingMode.Zeros)]
    [TestCase(2, 1, PaddingMode.Zeros)]
    [TestCase(2, 2, PaddingMode.Zeros)]
    [TestCase(2, 8, PaddingMode.Zeros)]
    [TestCase(1, 1, PaddingMode.Reflect)]
    [TestCase(2, 8, PaddingMode.Circular)]
    [TestCase(2, 1, PaddingMode.Replicate)]
    public void AConv1dBeforeFlattenAndLinearTrainsWithoutAllocatingOnCpu(int threads, int groups, PaddingMode mode)
    {
        // [batch, 8, 32] → Conv1d(8, 16, 3, padding 1) → [batch, 16, 32]: unfolded rows [2048, 24] at batch 64, enough for
        // two threads in the unfold and the fold; then Flatten's view and a Linear on [batch, 512]. With 2 groups, the rows
        // put group-major and back, and a GEMM per group. With 8 groups, one per input channel, the layer is depthwise (two
        // output channels each) and runs its direct kernel, forward and backward. A padding mode pads by its gather into
        // the layer's buffer and scatters its gradient back.
        using var device = Device.Create("cpu", threads);
        var random = new Random(5);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 8 * 32).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [8, 32], targets, [4]);
        using var model = new Sequential(new Conv1d(8, 16, 3, padding: 1, groups: groups, paddingMode: mode), new Relu(), new Flatten(), new Linear(16 * 32, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, 1)]
    [TestCase(2, 1)]
    [TestCase(2, 2)]
    public void AConv2dBeforeFlattenAndLinearTrainsWithoutAllocatingOnCpu(int threads, int groups)
    {
        // [batch, 4, 12, 12] → Conv2d(4, 8, 3, padding 1) → [batch, 8, 12, 12]: unfolded rows [4608, 36] at batch 32,
        // enough for two threads in the unfold and the fold; then Flatten's view and a Linear on [batch, 1152]. With 2
        // groups, the rows put group-major and back, and a GEMM per group.
        using var device = Device.Create("cpu", threads);
        var random = new Random(6);
        const int examples = 32;
        var inputs = Enumerable.Range(0, examples * 4 * 12 * 12).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [4, 12, 12], targets, [4]);
        using var model = new Sequential(new Conv2d(4, 8, 3, padding: 1, groups: groups), new Relu(), new Flatten(), new Linear(8 * 12 * 12, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, "max")]
    [TestCase(2, "max")]
    [TestCase(2, "global avg")]
    public void APoolingAfterAConv1dTrainsWithoutAllocatingOnCpu(int threads, string pooling)
    {
        // [batch, 8, 32] → Conv1d(8, 16, 3, padding 1) → MaxPool1d(2) [batch, 16, 16] (its argmax in an index buffer of
        // its own) or AdaptiveAvgPool1d(1) [batch, 16, 1] → Flatten → Linear.
        using var device = Device.Create("cpu", threads);
        var random = new Random(6);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 8 * 32).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [8, 32], targets, [4]);
        var (pool, pooled) = pooling == "max" ? ((Module)new MaxPool1d(2), 16) : (new AdaptiveAvgPool1d(1), 1);
        using var model = new Sequential(new Conv1d(8, 16, 3, padding: 1), new Relu(), pool, new Flatten(), new Linear(16 * pooled, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    [TestCase(1, "max")]
    [TestCase(2, "max")]
    [TestCase(2, "avg")]
    public void TwoDimensionalPoolingsAfterABatchNorm2dTrainWithoutAllocatingOnCpu(int threads, string pooling)
    {
        // [batch, 4, 8, 8] → BatchNorm2d(4) → ReLU → MaxPool2d(2) or AvgPool2d(3, stride 2, padding 1) [batch, 4, 4, 4]
        // (a max's argmax in an index buffer of its own) → AdaptiveMaxPool2d((2, 1)) or AdaptiveAvgPool2d(1) → Flatten → Linear.
        using var device = Device.Create("cpu", threads);
        var random = new Random(7);
        const int examples = 64;
        var inputs = Enumerable.Range(0, examples * 4 * 8 * 8).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var targets = Enumerable.Range(0, examples * 4).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [4, 8, 8], targets, [4]);
        var (pool, head, pooled) = pooling == "max"
            ? ((Module)new MaxPool2d(2), (Module)new AdaptiveMaxPool2d((2, 1)), 2)
            : (new AvgPool2d(3, stride: 2, padding: 1), new AdaptiveAvgPool2d(1), 1);
        using var model = new Sequential(new BatchNorm2d(4), new Relu(), pool, head, new Flatten(), new Linear(4 * pooled, 4));
        model.Build(device, seed: 1);
        using var loss = new MseLoss();
        Assert.That(BytesPerStep(device, model, loss, source, batch: examples), Is.Zero, "managed bytes allocated per step");
    }

    /// <summary>
    /// Runs warm-up steps of the Trainer's training step (Forward, CrossEntropyLoss, Backward, Adam), then returns the
    /// managed bytes this thread allocated per step in the cleanest of up to <see cref="Windows"/> windows (see there
    /// why); device allocations must be zero over all of them.
    /// </summary>
    private static double BytesPerStep(Device device, ICharModel model, IBatchSource source, int batch)
    {
        using var loss = new CrossEntropyLoss();
        return BytesPerStep(device, (Module)model, loss, source, batch);
    }

    /// <summary>As <see cref="BytesPerStep(Device, ICharModel, IBatchSource, int)"/>, for any module, loss and batch source.</summary>
    private static double BytesPerStep<TInput, TTarget>(Device device, Module model, object loss, IBatchSource<TInput, TTarget> source, int batch)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        using var adam = new Adam(model.Parameters, 0.002f);
        using var trainingStep = new TrainingStep<TInput, TTarget>(model, loss, adam, source, batch, gradientClipNorm: null, seed: 0);
        var examples = Enumerable.Range(0, batch).ToArray();
        long step = 0;
        double last = 0;
        void Step() => last = trainingStep.Run(examples, ++step);

        for (int i = 0; i < Warmup; i++)
        {
            Step();
        }

        long deviceBefore = device.AllocationCount;
        double perStep = double.PositiveInfinity;
        for (int window = 0; window < Windows && perStep > 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Measured; i++)
            {
                Step();
            }

            perStep = Math.Min(perStep, (double)(GC.GetAllocatedBytesForCurrentThread() - before) / Measured);
        }

        Assert.That(device.AllocationCount - deviceBefore, Is.Zero, "device buffers allocated in steady state");
        Assert.That(double.IsFinite(last), Is.True, "the loss");
        return perStep;
    }

    private static SequenceBatchSource Sequences(int count, int length, int vocabulary, int seed)
    {
        var random = new Random(seed);
        return new SequenceBatchSource(Enumerable.Range(0, count * length).Select(_ => random.Next(vocabulary)).ToArray(), length);
    }
}
