using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// An input on another device than the module's, given to Forward between a good Forward and its Backward (and a dL/dy on
/// another device given to that Backward), is refused in one line naming the module and both devices, and loses nothing:
/// the Backward of the good Forward, the gradients, the buffers and the next Forward are those of a run without the
/// refused calls. Every module kind of the library is run, and the losses with a prediction and targets on two devices,
/// or on another device than the last Forward's and refused there (disposed, or a class id out of range).
/// </summary>
public sealed class OtherDeviceInputTests
{
    // The module's device, and the device of the input it refuses ("cpu 2" is a separate cpu Device instance).
    private static readonly (string Module, string Other)[] DevicePairs = [("cpu", "ilgpu-cpu"), ("ilgpu-cpu", "cpu"), ("cpu", "cpu 2")];

    private static readonly (string Name, Func<Module> Create, int[] Shape, int Vocabulary)[] ModuleKinds =
    [
        ("Linear", () => new Linear(4, 3), [2, 3, 4], 0),
        ("Linear on token ids", () => new Linear(5, 3), [2, 3], 5),
        ("Embedding", () => new Embedding(5, 3, paddingIdx: 0), [2, 3], 5),
        ("Conv1d", () => new Conv1d(4, 6, 3, padding: 1), [3, 4, 5], 0),
        ("Conv1d groups 2", () => new Conv1d(4, 6, 3, padding: 1, groups: 2), [3, 4, 5], 0),
        ("Conv2d groups 2", () => new Conv2d(4, 6, (3, 2), padding: 1, groups: 2), [3, 4, 5, 4], 0),
        ("MaxPool1d", () => new MaxPool1d(2), [2, 3, 6], 0),
        ("AvgPool1d", () => new AvgPool1d(3, stride: 2, padding: 1), [2, 3, 6], 0),
        ("AdaptiveMaxPool1d", () => new AdaptiveMaxPool1d(2), [2, 3, 5], 0),
        ("AdaptiveAvgPool1d", () => new AdaptiveAvgPool1d(1), [2, 3, 5], 0),
        ("Permute rows", () => new Permute(1, 0, 2), [2, 3, 4], 0),
        ("Permute transpose", () => new Permute(0, 2, 1), [2, 3, 4], 0),
        ("Permute view", () => new Permute(1, 0, 2), [1, 3, 4], 0),
        ("Flatten", () => new Flatten(), [2, 3, 4], 0),
        ("Slice", () => new Slice(-1, 1), [3, 2, 4], 0),
        ("Slice dim 1", () => new Slice(0, 2, dim: 1), [2, 3, 4], 0),
        ("Relu", () => new Relu(), [2, 3, 4], 0),
        ("Tanh", () => new Tanh(), [2, 3, 4], 0),
        ("Sigmoid", () => new Sigmoid(), [2, 3, 4], 0),
        ("Gelu", () => new Gelu(), [2, 3, 4], 0),
        ("Gelu tanh", () => new Gelu(GeluApproximation.Tanh), [2, 3, 4], 0),
        ("Silu", () => new Silu(), [2, 3, 4], 0),
        ("LeakyRelu", () => new LeakyRelu(0.1f), [2, 3, 4], 0),
        ("Softmax", () => new Softmax(), [2, 3, 4], 0),
        ("LogSoftmax", () => new LogSoftmax(), [2, 3, 4], 0),
        ("LayerNorm", () => new LayerNorm(4), [2, 3, 4], 0),
        ("BatchNorm1d", () => new BatchNorm1d(3), [2, 3, 4], 0),
        ("Dropout", () => new Dropout(0.5f), [2, 3, 4], 0),
        ("Lstm", () => new Lstm(4, 5, 2), [3, 2, 4], 0),
        ("Gru on token ids", () => new Gru(5, 4, batchFirst: true), [2, 3], 5),
        ("Rnn", () => new Rnn(4, 5, 2, RnnNonlinearity.Relu), [3, 2, 4], 0),
        ("Sequential", () => new Sequential(new Linear(4, 5), new Tanh(), new Linear(5, 3)), [2, 3, 4], 0),
        ("Sequential from a Flatten", () => new Sequential(new Flatten(), new Linear(12, 3)), [2, 3, 4], 0),
    ];

    private static readonly string[] LossNames = ["CrossEntropyLoss", "NllLoss", "MseLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BceWithLogitsLoss"];

    private static IEnumerable<TestCaseData> Modules() =>
        from kind in ModuleKinds
        from pair in DevicePairs
        select new TestCaseData(kind.Create, kind.Shape, kind.Vocabulary, pair.Module, pair.Other).SetArgDisplayNames(kind.Name, pair.Module, pair.Other);

    private static IEnumerable<TestCaseData> Losses() =>
        from loss in LossNames
        from refused in new[] { "prediction", "target" }
        from pair in DevicePairs
        select new TestCaseData(loss, refused, pair.Module, pair.Other);

    // A prediction and targets on one device, the other of the pair, that the loss refuses for another reason.
    private static IEnumerable<TestCaseData> LossRefusals() =>
        from loss in LossNames
        from refusal in new[] { "disposed prediction", "disposed target", "class id out of range" }
        where IsClassIdLoss(loss) || refusal != "class id out of range"
        from shape in new[] { new[] { 2, 3, 4 }, new[] { 6, 4 } }
        from pair in DevicePairs
        select new TestCaseData(loss, refusal, shape, pair.Module, pair.Other).SetArgDisplayNames(loss, refusal, Tensor.FormatShape(shape), pair.Module, pair.Other);

    [TestCaseSource(nameof(Modules))]
    public void AnInputOnAnotherDeviceIsRefusedInOneLineAndLosesNothing(Func<Module> create, int[] shape, int vocabulary, string moduleDevice, string otherDevice)
    {
        var device = TestDevices.Get(moduleDevice);
        using var separate = otherDevice == "cpu 2" ? Device.Create("cpu") : null;
        var other = separate ?? TestDevices.Get(otherDevice);

        var expected = Run(create, device, shape, vocabulary, refuse: null);
        var actual = Run(create, device, shape, vocabulary, (module, y) =>
        {
            string name = module.GetType().Name;
            using var elsewhere = Input(other, shape, vocabulary, seed: 1);
            var error = Assert.Catch(() => Forward(module, elsewhere))!;
            AssertRefusal(error, name, device, other, separate is not null);
            using var dyElsewhere = other.FromArray(Gradient(y.Length), [.. y.Shape]);
            var backwardError = Assert.Catch(() => module.Backward(dyElsewhere))!;
            AssertRefusal(backwardError, name, device, other, separate is not null);
        });
        string[] what = ["the output", "the output read after the refusals", "dL/dx", "the parameter gradients", "the buffers", "the next output"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }
    }

    [TestCaseSource(nameof(Losses))]
    public void ALossRefusesAPredictionAndTargetsOnTwoDevicesInOneLineAndLosesNothing(string lossName, string refused, string lossDevice, string otherDevice)
    {
        var device = TestDevices.Get(lossDevice);
        using var separate = otherDevice == "cpu 2" ? Device.Create("cpu") : null;
        var other = separate ?? TestDevices.Get(otherDevice);
        int[] shape = [2, 3, 4];

        var expected = RunLoss(lossName, device, shape, refuse: null);
        var actual = RunLoss(lossName, device, shape, (loss, prediction, target) =>
        {
            using var predictionElsewhere = refused == "prediction" ? (Tensor)Input(other, shape, 0, seed: 1) : null;
            using var targetElsewhere = refused == "target" ? Target(lossName, other, shape) : null;
            var error = Assert.Catch(() => LossForward(loss, predictionElsewhere ?? prediction, targetElsewhere ?? target))!;
            AssertRefusal(error, ErrorName(lossName), device, other, separate is not null);
        });
        string[] what = ["the loss", "dL/d(prediction)", "the next loss"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }
    }

    [TestCaseSource(nameof(LossRefusals))]
    public void ALossRefusingAPredictionAndTargetsOnAnotherDeviceLosesNothing(string lossName, string refusal, int[] shape, string lossDevice, string otherDevice)
    {
        var device = TestDevices.Get(lossDevice);
        using var separate = otherDevice == "cpu 2" ? Device.Create("cpu") : null;
        var other = separate ?? TestDevices.Get(otherDevice);

        var expected = RunLoss(lossName, device, shape, refuse: null);
        var actual = RunLoss(lossName, device, shape, (loss, prediction, target) =>
        {
            using var predictionElsewhere = (Tensor)Input(other, shape, 0, seed: 1);
            using var targetElsewhere = refusal == "class id out of range" ? other.IndexFromArray([0, 1, 2, 3, 7, 0], shape[..^1]) : Target(lossName, other, shape);
            (refusal == "disposed prediction" ? predictionElsewhere : refusal == "disposed target" ? targetElsewhere : null)?.Dispose();
            var error = Assert.Catch(() => LossForward(loss, predictionElsewhere, targetElsewhere))!;
            if (refusal == "class id out of range")
            {
                Assert.That(error, Is.InstanceOf<ArgumentOutOfRangeException>(), error.ToString());
                Assert.That(error.Message, Does.StartWith("Target 7 of row 4 is outside the 4 classes"), "names the value and its row");
            }
            else
            {
                Assert.That(error, Is.InstanceOf<ObjectDisposedException>(), error.ToString());
                Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
            }
        });
        string[] what = ["the loss", "dL/d(prediction)", "the next loss"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }
    }

    private static void AssertRefusal(Exception error, string name, Device device, Device other, bool separate)
    {
        Assert.That(error, Is.InstanceOf<ArgumentException>(), error.ToString());
        Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
        Assert.That(error.Message, Does.Contain(name), "names the module");
        Assert.That(error.Message, Does.Contain($"is on {device.Name}"), "names the module's device");
        Assert.That(error.Message, Does.Contain(separate ? "separate Device instance" : $"is on {other.Name}"), "names the other device");
    }

    // A good Forward in training, `refuse` with its output, then Backward of that Forward and a next Forward. Returns the
    // output, read before and after `refuse`, dL/dx (empty for token ids), the parameter gradients, the buffers and the next
    // output.
    private static float[][] Run(Func<Module> create, Device device, int[] shape, int vocabulary, Action<Module, Tensor>? refuse)
    {
        using var module = create();
        module.Build(device, seed: 3);
        module.Train();
        using var x = Input(device, shape, vocabulary, seed: 1);
        using var next = Input(device, shape, vocabulary, seed: 2);
        var y = Forward(module, x);
        var output = y.ToArray();
        refuse?.Invoke(module, y);
        var outputAfter = y.ToArray();
        using var dy = device.FromArray(Gradient(y.Length), [.. y.Shape]);
        var dx = module.Backward(dy);
        float[] inputGradient = dx?.ToArray() ?? [];
        float[] gradients = [.. module.Parameters.Parameters.SelectMany(p => p.Gradient.ToArray())];
        float[] buffers = [.. module.NamedBuffers.SelectMany(b => b.ToHost())];
        return [output, outputAfter, inputGradient, gradients, buffers, Forward(module, next).ToArray()];
    }

    // A good loss Forward, `refuse` with its prediction and target, then Backward and a next Forward. Returns the loss,
    // dL/d(prediction) and the next loss.
    private static float[][] RunLoss(string lossName, Device device, int[] shape, Action<IDisposable, Tensor, IDisposable>? refuse)
    {
        using IDisposable loss = lossName switch
        {
            "CrossEntropyLoss" => new CrossEntropyLoss(),
            "NllLoss" => new NllLoss(),
            "L1Loss" => new L1Loss(),
            "SmoothL1Loss" => new SmoothL1Loss(),
            "HuberLoss" => new HuberLoss(),
            "BceWithLogitsLoss" => new BceWithLogitsLoss(),
            _ => new MseLoss(),
        };
        using var prediction = (Tensor)Input(device, shape, 0, seed: 1);
        using var target = Target(lossName, device, shape);
        using var next = (Tensor)Input(device, shape, 0, seed: 2);
        double value = LossForward(loss, prediction, target);
        refuse?.Invoke(loss, prediction, target);
        var gradient = (loss is ILoss<Tensor> values ? values.Backward() : ((ClassIdLoss)loss).Backward()).ToArray();
        return [[(float)value], gradient, [(float)LossForward(loss, next, target)]];
    }

    private static double LossForward(IDisposable loss, Tensor prediction, IDisposable target) =>
        loss is ILoss<Tensor> values ? values.Forward(prediction, (Tensor)target) : ((ClassIdLoss)loss).Forward(prediction, (IndexTensor)target);

    // Class ids in [0, 4), one per row of a prediction [..., 4], for the class-id losses; values shaped as the prediction for the others.
    private static IDisposable Target(string lossName, Device device, int[] shape) =>
        IsClassIdLoss(lossName) ? device.IndexFromArray([.. Enumerable.Range(0, 6).Select(i => i % 4)], shape[..^1]) : Input(device, shape, 0, seed: 5);

    private static bool IsClassIdLoss(string lossName) => lossName is "CrossEntropyLoss" or "NllLoss";

    // The loss as its refusals name it.
    private static string ErrorName(string lossName) => lossName switch
    {
        "MseLoss" => "MSE",
        "NllLoss" => "NLL loss",
        "CrossEntropyLoss" => "Cross-entropy",
        "L1Loss" => "L1 loss",
        "SmoothL1Loss" => "Smooth L1 loss",
        "HuberLoss" => "Huber loss",
        _ => "BCE-with-logits loss",
    };

    private static Tensor Forward(Module module, IDisposable input) =>
        input is IndexTensor ids ? module.Forward(ids) : module.Forward((Tensor)input);

    // Values in [−1, 1) from a seed, or token ids in [0, vocabulary) when it is not 0.
    private static IDisposable Input(Device device, int[] shape, int vocabulary, int seed)
    {
        var random = new Random(seed);
        int length = shape.Aggregate(1, (a, b) => a * b);
        return vocabulary > 0
            ? device.IndexFromArray([.. Enumerable.Range(0, length).Select(_ => random.Next(vocabulary))], shape)
            : device.FromArray([.. Enumerable.Range(0, length).Select(_ => (random.NextSingle() * 2f) - 1f)], shape);
    }

    private static float[] Gradient(long length) => [.. Enumerable.Range(0, (int)length).Select(i => ((i % 7) - 3) / 7f)];
}
