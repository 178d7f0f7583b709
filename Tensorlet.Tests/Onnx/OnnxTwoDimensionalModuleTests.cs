using System.Globalization;
using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Onnx;

/// <summary>
/// <see cref="ModuleExporter"/> and the 2-d modules: MaxPool2d, AvgPool2d, AdaptiveMaxPool2d(1), AdaptiveAvgPool2d(1)
/// and BatchNorm2d, alone and in a small CNN, run by ONNX Runtime against their Forward in evaluation mode on
/// <c>cpu</c>; and the models they cannot be exported in, each refused in one line.
/// </summary>
public sealed class OnnxTwoDimensionalModuleTests
{
    private const double Tolerance = 2e-5;

    // Each pooling alone is one node with the module's attributes, ONNX's pads [top, left, bottom, right]; the input is
    // [N, C, H, W], all four free, and the graph gives the module's output at every size from the shortest at which
    // every window of a dilated max pooling has a tap inside x (see the test below for one that has none).
    private static IEnumerable<TestCaseData> Poolings()
    {
        TestCaseData Case(string name, Func<Module> make, string op, string attributes, int shortestHeight, int shortestWidth)
            => new TestCaseData(make, op, attributes, shortestHeight, shortestWidth).SetArgDisplayNames(name);
        yield return Case("MaxPool2d", () => new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2)), "MaxPool", "kernel_shape=3,2 strides=2,1 pads=1,1,1,1 dilations=1,2", 1, 2);
        yield return Case("MaxPool2d ceil", () => new MaxPool2d((2, 3), stride: (3, 2), padding: (1, 0), dilation: (2, 1), ceilMode: true), "MaxPool", "kernel_shape=2,3 strides=3,2 pads=1,0,1,0 dilations=2,1 ceil_mode=1", 2, 2);
        yield return Case("AvgPool2d", () => new AvgPool2d((2, 3), stride: (1, 2), padding: (1, 1)), "AveragePool", "kernel_shape=2,3 strides=1,2 pads=1,1,1,1 count_include_pad=1", 1, 1);
        yield return Case("AvgPool2d exclusive", () => new AvgPool2d((3, 2), stride: 2, padding: (1, 0), countIncludePad: false), "AveragePool", "kernel_shape=3,2 strides=2,2 pads=1,0,1,0 count_include_pad=0", 1, 2);
        yield return Case("AvgPool2d ceil", () => new AvgPool2d((3, 2), stride: (2, 3), padding: (1, 1), ceilMode: true), "AveragePool", "kernel_shape=3,2 strides=2,3 pads=1,1,1,1 count_include_pad=1 ceil_mode=1", 1, 1);
        yield return Case("AvgPool2d ceil exclusive", () => new AvgPool2d((2, 4), stride: (3, 3), padding: (1, 2), ceilMode: true, countIncludePad: false), "AveragePool", "kernel_shape=2,4 strides=3,3 pads=1,2,1,2 count_include_pad=0 ceil_mode=1", 1, 1);
        yield return Case("AdaptiveMaxPool2d", () => new AdaptiveMaxPool2d(1), "GlobalMaxPool", "", 1, 1);
        yield return Case("AdaptiveAvgPool2d", () => new AdaptiveAvgPool2d((1, 1)), "GlobalAveragePool", "", 1, 1);
    }

    [TestCaseSource(nameof(Poolings))]
    public void APoolingAloneExportsAsOneNodeAndMatchesTensorletAtEverySize(Func<Module> make, string op, string attributes, int shortestHeight, int shortestWidth)
    {
        using var model = new Sequential(make());
        model.Build(TestDevices.Get("cpu"));
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        var node = graph.Node.Single(n => n.OpType != "Identity");
        Assert.That(node.OpType, Is.EqualTo(op));
        Assert.That(string.Join(" ", node.Attribute.Select(a => $"{a.Name}={(a.Ints.Count > 0 ? string.Join(",", a.Ints) : a.I.ToString(CultureInfo.InvariantCulture))}")), Is.EqualTo(attributes));
        Assert.That(Dims(graph.Input[0]), Is.EqualTo(new[] { "N", "C", "H", "W" }));
        Assert.That(Dims(graph.Output[0]), Has.Length.EqualTo(4));

        var sizes = from h in Enumerable.Range(shortestHeight, 8) from w in Enumerable.Range(shortestWidth, 8) select (2, 3, h, w);
        AssertMatchesOnnxRuntime(model, bytes, new Random(51), [.. sizes]);
    }

    // A dilated max pooling's window whose taps all lie in the padding is −∞ in the module, as in PyTorch, but the
    // lowest float in ONNX Runtime, for 1-d and 2-d poolings alike, as docs/onnx.md says.
    [Test]
    public void AMaxPoolingWindowWithNoTapInsideTheInputIsTheLowestFloatInOnnxRuntime()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (pool, shape) in new (Module, int[])[]
        {
            (new MaxPool1d(2, stride: 1, padding: 1, dilation: 3), [1, 1, 2]),
            (new MaxPool2d((1, 2), stride: 1, padding: (0, 1), dilation: (1, 3)), [1, 1, 1, 2]),
        })
        {
            using var model = new Sequential(pool);
            model.Build(device);
            model.Eval();
            using var session = new OrtSession(ModuleExporter.Export(model));
            using var input = device.FromArray([1f, 2f], shape);
            var expected = model.Forward(input).ToArray();
            var y = session.Run(OrtSession.Floats("input", [1f, 2f], shape))["output"].Data;
            Assert.That(expected, Does.Contain(float.NegativeInfinity), pool.GetType().Name);
            Assert.That(y, Is.EqualTo(expected.Select(v => float.IsNegativeInfinity(v) ? float.MinValue : v).ToArray()), pool.GetType().Name);
        }
    }

    // BatchNorm2d is one BatchNormalization node with the running statistics a few training steps moved off 0 and 1
    // (without weight and bias: ones and zeros); it decides the input's rank as a Conv2d does, its channels fixed.
    [TestCase(true)]
    [TestCase(false)]
    public void BatchNorm2dAloneExportsAsBatchNormalizationAndMatchesTensorletInEvalMode(bool affine)
    {
        using var model = new Sequential(new BatchNorm2d(3, epsilon: 1e-3f, affine: affine));
        var random = new Random(53);
        var (bytes, graph) = TrainedAndExported(model, seed: 52, random, 3, 5, 4);
        var node = graph.Node.Single(n => n.OpType == "BatchNormalization");
        Assert.That(node.Attribute.Single(a => a.Name == "epsilon").F, Is.EqualTo(1e-3f));
        Assert.That(Dims(graph.Input[0]), Is.EqualTo(new[] { "N", "3", "H", "W" }));
        AssertMatchesOnnxRuntime(model, bytes, random, (1, 3, 1, 1), (2, 3, 4, 5), (3, 3, 7, 2));
    }

    // A small CNN: Conv2d → BatchNorm2d → Relu → MaxPool2d → Conv2d → Relu → AdaptiveAvgPool2d(1) → Flatten → Dropout →
    // Linear, its input [N, 3, H, W] with H and W free, its output [N, 2], at several sizes after some training.
    [Test]
    public void ASmallCnnExportsAndMatchesTensorletInEvalModeAtEverySize()
    {
        using var model = new Sequential(
            new Conv2d(3, 4, (3, 2), padding: (1, 0)), new BatchNorm2d(4), new Relu(),
            new MaxPool2d((2, 3), stride: 2, padding: (1, 1), ceilMode: true),
            new Conv2d(4, 6, 3, padding: 1, dilation: (1, 2)), new Relu(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Dropout(0.5f), new Linear(6, 2));
        var random = new Random(55);
        var (bytes, graph) = TrainedAndExported(model, seed: 54, random, 3, 8, 9);
        Assert.That(graph.Node.Select(n => n.OpType).Where(op => op is "Conv" or "BatchNormalization" or "MaxPool" or "GlobalAveragePool" or "Flatten"), Is.EqualTo(new[] { "Conv", "BatchNormalization", "MaxPool", "Conv", "GlobalAveragePool", "Flatten" }));
        Assert.That(Dims(graph.Input[0]), Is.EqualTo(new[] { "N", "3", "H", "W" }));
        Assert.That(Dims(graph.Output[0]), Is.EqualTo(new[] { "N", "2" }));
        AssertMatchesOnnxRuntime(model, bytes, random, (1, 3, 1, 7), (2, 3, 6, 7), (3, 3, 11, 8));
    }

    // A size fixed before a 2-d module (the width by a Linear, both by a global pooling) is carried through it: an
    // output size fixed where the window fits, a symbol where ceil mode drops a last window starting in the padding
    // (ONNX's checkers before 1.16 infer the undropped size).
    [Test]
    public void SizesFixedBeforeATwoDimensionalModuleAreCarriedThroughIt()
    {
        var device = TestDevices.Get("cpu");
        using var fixedWidth = new Sequential(new Linear(10, 8), new BatchNorm2d(3), new AvgPool2d((2, 3), stride: (2, 2), ceilMode: true), new AdaptiveMaxPool2d(1), new MaxPool2d(1));
        using var carried = new Sequential(new Linear(10, 10), new AvgPool2d((2, 3), stride: 2, ceilMode: true));
        using var dropping = new Sequential(new Linear(10, 10), new MaxPool2d((1, 2), stride: (1, 3), padding: (0, 1), ceilMode: true));
        foreach (var (model, input, output) in new (Sequential, string[], string[])[]
        {
            (fixedWidth, ["N", "3", "H", "10"], ["N", "3", "1", "1"]),
            (carried, ["N", "C", "H", "10"], ["N", "C", "1.H_out", "5"]), // W_out 5 in ceil mode (4 in floor mode)
            (dropping, ["N", "C", "H", "10"], ["N", "C", "1.H_out", "1.W_out"]),
        })
        {
            using (model)
            {
                model.Build(device, seed: 56);
                model.Eval();
                var bytes = ModuleExporter.Export(model);
                var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
                Assert.That(Dims(graph.Input[0]), Is.EqualTo(input));
                Assert.That(Dims(graph.Output[0]), Is.EqualTo(output));
                AssertMatchesOnnxRuntime(model, bytes, new Random(57), (2, 3, 1, 10), (1, 3, 5, 10));
            }
        }
    }

    // Each export that cannot be made is refused in one line naming the layer (and, for a mix of ranks, both layers),
    // as the 1-d modules and Conv2d are.
    private static IEnumerable<TestCaseData> Refusals()
    {
        TestCaseData Case(string name, Func<Sequential> make, string expected) => new TestCaseData(make, expected).SetArgDisplayNames(name);
        yield return Case("AdaptiveMaxPool2d of size (1, 2)", () => new Sequential(new Conv2d(3, 4, 3), new AdaptiveMaxPool2d((1, 2))), "The AdaptiveMaxPool2d at '1' has output size (1, 2); ONNX has no adaptive pooling, only the global one (output size 1).");
        yield return Case("AdaptiveAvgPool2d of size 2", () => new Sequential(new AdaptiveAvgPool2d(2)), "The AdaptiveAvgPool2d at '0' has output size 2; ONNX has no adaptive pooling, only the global one (output size 1).");
        yield return Case("BatchNorm2d without running statistics", () => new Sequential(("conv", new Conv2d(3, 4, 3)), ("bn", new BatchNorm2d(4, trackRunningStats: false))), "The BatchNorm2d 'bn' has no running statistics (trackRunningStats: false), so it normalizes every batch by its own; the export is the inference form, which needs them.");
        yield return Case("MaxPool2d then Conv1d", () => new Sequential(new MaxPool2d(2), new Relu(), new Conv1d(4, 2, 3)), "The MaxPool2d at '0' takes [N, C, H, W] and the Conv1d at '2' [N, C, L], and no module between them changes the rank");
        yield return Case("Conv1d then BatchNorm2d", () => new Sequential(new Conv1d(3, 4, 3), new BatchNorm2d(4)), "The BatchNorm2d at '1' takes [N, C, H, W] and the Conv1d at '0' [N, C, L]");
        yield return Case("AvgPool1d then AdaptiveAvgPool2d", () => new Sequential(new AvgPool1d(2), new AdaptiveAvgPool2d(1)), "The AdaptiveAvgPool2d at '1' takes [N, C, H, W] and the AvgPool1d at '0' [N, C, L]");
        yield return Case("Flatten before MaxPool2d", () => new Sequential(new Flatten(), new MaxPool2d(2)), "The Flatten at '0' comes before any Conv1d, Conv2d, BatchNorm2d, 1-d or 2-d pooling, Permute, Lstm, Gru or Rnn, so the model's input rank cannot be known");
        yield return Case("MaxPool2d after rank 2", () => new Sequential(new Lstm(2, 3), new Slice(-1, 1), new Flatten(), new MaxPool2d(2)), "The MaxPool2d at '3' takes [N, C, H, W]; the value before it has rank 2.");
        yield return Case("BatchNorm2d after rank 2", () => new Sequential(new Lstm(2, 3), new Slice(-1, 1), new Flatten(), new BatchNorm2d(3)), "The BatchNorm2d '3' takes [N, C, H, W]; the value before it has rank 2.");
        yield return Case("BatchNorm2d of other channels", () => new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(5)), "The BatchNorm2d at '1' expects 5 channels (dim 1), but the value before it has 4");
        yield return Case("MaxPool2d wider than the width", () => new Sequential(new Linear(10, 2), new MaxPool2d((1, 3))), "The MaxPool2d at '1' needs an input width of at least 3, but the width there is fixed at 2.");
        yield return Case("AvgPool2d in ceil mode wider than the width", () => new Sequential(new Linear(10, 1), new AvgPool2d((1, 4), stride: 3, ceilMode: true)), "The AvgPool2d at '1' needs an input width of at least 2, but the width there is fixed at 1.");
        yield return Case("MaxPool2d after a global pooling", () => new Sequential(new AdaptiveMaxPool2d(1), new MaxPool2d((2, 1))), "The MaxPool2d at '1' needs an input height of at least 2, but the height there is fixed at 1.");
    }

    [TestCaseSource(nameof(Refusals))]
    public void AnExportThatCannotBeMadeIsRefusedInOneLine(Func<Sequential> make, string expected)
    {
        using var model = make();
        model.Build(TestDevices.Get("cpu"));
        model.Eval();
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
        Assert.That(e.Message, Does.StartWith(expected).And.Not.Contain('\n'));
    }

    private static string[] Dims(Tensorlet.Onnx.Proto.ValueInfoProto value)
        => [.. value.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(CultureInfo.InvariantCulture))];

    // The model built on cpu, its BatchNorm2d's running statistics moved away from zeros and ones by training forwards on
    // x [4, C, H, W], then exported in evaluation mode.
    private static (byte[] Bytes, Tensorlet.Onnx.Proto.GraphProto Graph) TrainedAndExported(Sequential model, int seed, Random random, int channels, int height, int width)
    {
        model.Build(TestDevices.Get("cpu"), seed);
        foreach (int step in Enumerable.Range(0, 3))
        {
            using var batch = model.Device.FromArray(OnnxLayerTests.Uniform(random, 4 * channels * height * width, 2f + step), 4, channels, height, width);
            model.Forward(batch);
        }

        model.Eval();
        var bytes = ModuleExporter.Export(model);
        return (bytes, Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph);
    }

    // The exported graph against the model's Forward on x [N, C, H, W] at each size.
    private static void AssertMatchesOnnxRuntime(Sequential model, byte[] bytes, Random random, params (int N, int C, int H, int W)[] sizes)
    {
        using var session = new OrtSession(bytes);
        foreach (var (n, c, h, w) in sizes)
        {
            var x = OnnxLayerTests.Uniform(random, n * c * h * w, 2f);
            using var input = model.Device.FromArray(x, n, c, h, w);
            var expected = model.Forward(input);
            var y = session.Run(OrtSession.Floats("input", x, n, c, h, w))["output"];
            string at = $"[{n}, {c}, {h}, {w}]";
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()), at);
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance), at);
        }
    }
}
