using Microsoft.ML.OnnxRuntime;
using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Onnx;

/// <summary><see cref="ModuleExporter"/>: models made of modules, run by ONNX Runtime, against their Forward in evaluation mode on <c>cpu</c>.</summary>
public sealed class OnnxModuleExporterTests
{
    private const double Tolerance = 2e-5;

    [Test]
    public void EmbeddingLstmSliceLinearMatchesTensorletOverCallsWithACarriedState()
    {
        const int vocabulary = 7, embedding = 4, hidden = 5, layers = 2, classes = 3, batch = 2;
        var device = TestDevices.Get("cpu");
        var lstm = new Lstm(embedding, hidden, layers, dropout: 0.3f) { CarryState = true };
        using var model = new Sequential(new Embedding(vocabulary, embedding), lstm, new Slice(-1, 1), new Linear(hidden, classes));
        model.Build(device, seed: 11);
        model.Eval();

        using var session = new OrtSession(ModuleExporter.Export(model));
        var random = new Random(12);
        var h = new float[layers * batch * hidden];
        var c = new float[layers * batch * hidden];
        for (int call = 0; call < 8; call++)
        {
            int steps = 1 + (call % 4);
            var ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
            using var input = device.IndexFromArray(ids, steps, batch);
            var expected = model.Forward(input).ToArray();
            var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("1.h0", h, layers, batch, hidden), OrtSession.Floats("1.c0", c, layers, batch, hidden));
            (h, c) = (result["1.hn"].Data, result["1.cn"].Data);
            Assert.That(result["output"].Shape, Is.EqualTo(new[] { 1, batch, classes }));
            Assert.That(result["output"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            Assert.That(h, Is.EqualTo(lstm.FinalState!.Hidden.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final h of call {call}");
            Assert.That(c, Is.EqualTo(lstm.FinalState!.Cell.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final c of call {call}");
        }
    }

    [Test]
    public void EmbeddingGruSliceLinearMatchesTensorletOverCallsWithACarriedState()
    {
        const int vocabulary = 7, embedding = 4, hidden = 5, layers = 2, classes = 3, batch = 2;
        var device = TestDevices.Get("cpu");
        var gru = new Gru(embedding, hidden, layers, dropout: 0.3f) { CarryState = true };
        using var model = new Sequential(new Embedding(vocabulary, embedding), gru, new Slice(-1, 1), new Linear(hidden, classes));
        model.Build(device, seed: 13);
        model.Eval();

        using var session = new OrtSession(ModuleExporter.Export(model));
        var random = new Random(14);
        var h = new float[layers * batch * hidden];
        for (int call = 0; call < 8; call++)
        {
            int steps = 1 + (call % 4);
            var ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
            using var input = device.IndexFromArray(ids, steps, batch);
            var expected = model.Forward(input).ToArray();
            var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("1.h0", h, layers, batch, hidden));
            h = result["1.hn"].Data;
            Assert.That(result.ContainsKey("1.cn"), Is.False, "a GRU has no cell state");
            Assert.That(result["output"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            Assert.That(h, Is.EqualTo(gru.FinalState!.Hidden.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final h of call {call}");
        }
    }

    [Test]
    public void LinearTanhDropoutLinearMatchesTensorletInEvalMode()
    {
        using var model = new Sequential(new Linear(5, 8), new Tanh(), new Dropout(0.5f), new Linear(8, 3));
        model.Build(TestDevices.Get("cpu"), seed: 13);
        model.Eval();
        AssertMatchesOnnxRuntimeOnRows(model, inFeatures: 5, outFeatures: 3, new Random(14), scale: 2f);
    }

    // Conv1d is one Conv node and Flatten one Flatten node on axis 1; the input is [N, C_in, L] with N and L free.
    [Test]
    public void AConvolutionalClassifierExportsAsConvAndFlattenAndMatchesTensorlet()
    {
        var device = TestDevices.Get("cpu");
        var conv = new Conv1d(3, 4, 3, stride: 2, padding: 1, dilation: 2);
        using var model = new Sequential(conv, new Relu(), new Flatten(), new Linear(4 * conv.OutputLength(11), 2));
        model.Build(device, seed: 17);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        var convNode = graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(convNode.Attribute.ToDictionary(a => a.Name, a => a.Ints.Count > 0 ? string.Join(",", a.Ints) : a.I.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["kernel_shape"] = "3",
            ["strides"] = "2",
            ["pads"] = "1,1",
            ["dilations"] = "2",
            ["group"] = "1",
        }));
        Assert.That(graph.Node.Single(n => n.OpType == "Flatten").Attribute.Single().I, Is.EqualTo(1), "axis 1");
        Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(new[] { "N", "3", "L" }));

        using var session = new OrtSession(bytes);
        var random = new Random(18);
        foreach (int n in new[] { 1, 4 })
        {
            var x = OnnxLayerTests.Uniform(random, n * 3 * 11, 2f);
            using var input = device.FromArray(x, n, 3, 11);
            var expected = model.Forward(input).ToArray();
            var y = session.Run(OrtSession.Floats("input", x, n, 3, 11))["output"];
            Assert.That(y.Shape, Is.EqualTo(new[] { n, 2 }));
            Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
        }
    }

    // Conv2d is one Conv node with 2-d kernel_shape, strides, dilations and ONNX's pads [top, left, bottom, right]; the
    // input is [N, C_in, H, W] with N, H and W free: a stack of a non-square strided and dilated layer, a grouped layer
    // with 'same' padding and a plain one, on inputs of several sizes, then a classifier whose Flatten and Linear fix
    // the sizes.
    [Test]
    public void Conv2dExportsAsConvWithItsTwoAxesAndMatchesTensorletAtEverySize()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv2d(3, 4, (3, 2), stride: (2, 1), padding: (1, 2), dilation: (1, 2)), new Relu(),
            new Conv2d(4, 6, (4, 3), padding: Conv2dPadding.Same, groups: 2), new Tanh(), new Conv2d(6, 2, 1, bias: false));
        model.Build(device, seed: 41);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        var attributes = graph.Node.Where(n => n.OpType == "Conv")
            .Select(n => string.Join(" ", n.Attribute.Select(a => $"{a.Name}={(a.Ints.Count > 0 ? string.Join(",", a.Ints) : a.I.ToString(System.Globalization.CultureInfo.InvariantCulture))}")));
        Assert.That(attributes, Is.EqualTo(new[]
        {
            "kernel_shape=3,2 strides=2,1 pads=1,2,1,2 dilations=1,2 group=1",
            "kernel_shape=4,3 strides=1,1 pads=1,1,2,1 dilations=1,1 group=2",
            "kernel_shape=1,1 strides=1,1 pads=0,0,0,0 dilations=1,1 group=1",
        }));
        Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(new[] { "N", "3", "H", "W" }));

        using var session = new OrtSession(bytes);
        var random = new Random(42);
        foreach (var (n, h, w) in new[] { (1, 3, 2), (2, 7, 6), (3, 10, 9) })
        {
            var x = OnnxLayerTests.Uniform(random, n * 3 * h * w, 2f);
            using var input = device.FromArray(x, n, 3, h, w);
            var expected = model.Forward(input);
            var y = session.Run(OrtSession.Floats("input", x, n, 3, h, w))["output"];
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()), $"{h}×{w}");
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance), $"{h}×{w}");
        }

        var conv = new Conv2d(2, 4, 3, padding: 1);
        using var classifier = new Sequential(conv, new Relu(), new Conv2d(4, 3, (2, 3), stride: 2), new Relu(), new Flatten(), new Linear(3 * 3 * 3, 2));
        classifier.Build(device, seed: 43);
        classifier.Eval();
        using var classifierSession = new OrtSession(ModuleExporter.Export(classifier));
        var data = OnnxLayerTests.Uniform(random, 2 * 2 * 6 * 7, 2f);
        using var image = device.FromArray(data, 2, 2, 6, 7);
        var logits = classifierSession.Run(OrtSession.Floats("input", data, 2, 2, 6, 7))["output"];
        Assert.That(logits.Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(logits.Data, Is.EqualTo(classifier.Forward(image).ToArray()).Within(Tolerance));
    }

    // No module of the library takes a Conv2d's [N, C, H, W] to the [N, C, L] of a Conv1d or a 1-d pooling, or back, so
    // a model with both has no input shape to declare, and is refused in one line naming both layers; so is a Conv2d
    // after a value of another rank, and one whose kernel does not fit a width fixed before it, or whose padding makes
    // that width's output more than an int (so is a Conv1d's).
    [Test]
    public void AConv2dWithAConv1dOrAOneDimensionalPoolingIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (model, expected) in new (Sequential, string)[]
        {
            (new Sequential(new Conv2d(3, 4, 3), new Relu(), new Conv1d(4, 2, 3)), "The Conv2d at '0' takes [N, C, H, W] and the Conv1d at '2' [N, C, L]"),
            (new Sequential(new Conv1d(3, 4, 3), new Conv2d(4, 2, 3)), "The Conv2d at '1' takes [N, C, H, W] and the Conv1d at '0' [N, C, L]"),
            (new Sequential(new Conv2d(3, 4, 3), new MaxPool1d(2)), "The Conv2d at '0' takes [N, C, H, W] and the MaxPool1d at '1' [N, C, L]"),
            (new Sequential(new Lstm(2, 3), new Slice(-1, 1), new Flatten(), new Conv2d(3, 2, 1)), "The Conv2d '3' takes [N, C, H, W]; the value before it has rank 2."),
            (new Sequential(new Linear(10, 2), new Conv2d(3, 4, (1, 3))), "The Conv2d at '1' needs an input width of at least 3, but the width there is fixed at 2."),
            (new Sequential(new Linear(6, 4), new Conv2d(3, 4, 3, padding: (0, 1 << 30))), "The Conv2d at '1' gives an output width of 2147483650 from the width 4 fixed there, more than int.MaxValue."),
            (new Sequential(new Linear(6, 4), new Conv1d(3, 4, 3, padding: 1 << 30)), "The Conv1d at '1' gives an output length of 2147483650 from the length 4 fixed there, more than int.MaxValue."),
            (new Sequential(new Conv2d(3, 3, 1), new Flatten(), new Conv1d(3, 3, 1)), "The Conv1d '2' takes [N, C, L]; the value before it has rank 2."),
        })
        {
            using (model)
            {
                model.Build(device);
                model.Eval();
                var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
                Assert.That(e.Message, Does.StartWith(expected).And.Not.Contain('\n'));
            }
        }
    }

    // A grouped Conv1d is one Conv node whose group is the module's groups, its weight [C_out, C_in/groups, k]: a
    // depthwise-separable block (depthwise, then pointwise) and a convolution of two groups, on inputs of several lengths.
    [Test]
    public void GroupedConvolutionsExportWithTheirGroupAndMatchTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv1d(3, 3, 3, padding: 2, dilation: 2, groups: 3), new Relu(), new Conv1d(3, 6, 1), new Tanh(),
            new Conv1d(6, 4, 3, stride: 2, bias: false, groups: 2));
        model.Build(device, seed: 33);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        Assert.That(graph.Node.Where(n => n.OpType == "Conv").Select(n => n.Attribute.Single(a => a.Name == "group").I), Is.EqualTo(new long[] { 3, 1, 2 }));
        Assert.That(
            new[] { "0.weight", "2.weight", "4.weight" }.Select(name => graph.Initializer.Single(t => t.Name == name).Dims.ToArray()),
            Is.EqualTo(new[] { new long[] { 3, 1, 3 }, [6, 3, 1], [4, 3, 3] }));
        AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(34), 3, 7, 12);
    }

    // padding='same' is a Conv whose pads are [left, right]: [1, 2] for k 4, [2, 2] for k 3 at dilation 2, [1, 2] for k 2
    // at dilation 3 in two groups; every length keeps its length.
    [Test]
    public void PaddingSameExportsAsConvWithItsLeftAndRightPadsAndMatchesTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv1d(3, 4, 4, padding: Conv1dPadding.Same), new Tanh(), new Conv1d(4, 4, 3, padding: Conv1dPadding.Same, dilation: 2), new Relu(),
            new Conv1d(4, 2, 2, padding: Conv1dPadding.Same, dilation: 3, bias: false, groups: 2));
        model.Build(device, seed: 35);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        Assert.That(graph.Node.Where(n => n.OpType == "Conv").Select(n => string.Join(",", n.Attribute.Single(a => a.Name == "pads").Ints)), Is.EqualTo(new[] { "1,2", "2,2", "1,2" }));
        AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(36), 1, 4, 9);
    }

    // Reflect and replicate are a Pad node (mode reflect, edge) before a Conv without pads, as PyTorch's exporter writes
    // them: reflect at padding 2, replicate past the kernel in three groups, and reflect with 'same' for k 4 (1 and 2).
    [Test]
    public void ReflectAndReplicatePaddingExportAsPadThenConvAndMatchTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv1d(3, 6, 3, padding: 2, paddingMode: PaddingMode.Reflect), new Tanh(),
            new Conv1d(6, 3, 3, stride: 2, padding: 4, groups: 3, paddingMode: PaddingMode.Replicate), new Relu(),
            new Conv1d(3, 2, 4, padding: Conv1dPadding.Same, bias: false, paddingMode: PaddingMode.Reflect));
        model.Build(device, seed: 37);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        var pads = graph.Node.Where(n => n.OpType == "Pad").ToList();
        Assert.That(pads.Select(n => n.Attribute.Single(a => a.Name == "mode").S.ToStringUtf8()), Is.EqualTo(new[] { "reflect", "edge", "reflect" }));
        Assert.That(
            pads.Select(n => string.Join(",", graph.Initializer.Single(t => t.Name == n.Input[1]).Int64Data)),
            Is.EqualTo(new[] { "0,0,2,0,0,2", "0,0,4,0,0,4", "0,0,1,0,0,2" }));
        Assert.That(graph.Node.Where(n => n.OpType == "Conv").Select(n => string.Join(",", n.Attribute.Single(a => a.Name == "pads").Ints)), Is.All.EqualTo("0,0"));
        AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(38), 3, 5, 9);
    }

    // Circular padding, which opset 14's Pad has no mode for, is written as PyTorch's exporter writes it: a Slice of the
    // last `left` positions and one of the first `right` (each left out at 0) concatenated around the input on axis 2,
    // then a Conv without pads: at padding 2, at 'same' for k 4 (1 and 2) in two groups with a stride after it, and at
    // 'same' for k 2 (0 and 1). A layer with no padding ('same' for k 1) is a plain Conv. Each length from the shortest
    // the first layer takes (its padding, 2) matches the model.
    [Test]
    public void CircularPaddingExportsAsSlicesConcatenatedAroundTheInputThenConvAndMatchesTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv1d(3, 4, 3, padding: 2, paddingMode: PaddingMode.Circular), new Tanh(),
            new Conv1d(4, 4, 4, padding: Conv1dPadding.Same, groups: 2, paddingMode: PaddingMode.Circular), new Relu(),
            new Conv1d(4, 4, 3, stride: 2, padding: 3, bias: false, paddingMode: PaddingMode.Circular),
            new Conv1d(4, 2, 2, padding: Conv1dPadding.Same, paddingMode: PaddingMode.Circular),
            new Conv1d(2, 2, 1, padding: Conv1dPadding.Same, paddingMode: PaddingMode.Circular));
        model.Build(device, seed: 41);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        Assert.That(graph.Node.Where(n => n.OpType == "Pad"), Is.Empty);
        var concats = graph.Node.Where(n => n.OpType == "Concat").ToList();
        Assert.That(concats.Select(n => n.Attribute.Single(a => a.Name == "axis").I), Is.EqualTo(new long[] { 2, 2, 2, 2 }));
        string Producer(string value) => graph.Node.SingleOrDefault(n => n.Output.Contains(value))?.OpType ?? value;
        Assert.That(
            concats.Select(n => string.Join(",", n.Input.Select(Producer))),
            Is.EqualTo(new[] { "Slice,input,Slice", "Slice,Tanh,Slice", "Slice,Relu,Slice", "Conv,Slice" }));
        var slices = graph.Node.Where(n => n.OpType == "Slice").ToList();
        string Constant(string name) => string.Join(",", graph.Initializer.Single(t => t.Name == name).Int64Data);
        Assert.That(
            slices.Select(n => $"{Constant(n.Input[1])}:{Constant(n.Input[2])}@{Constant(n.Input[3])}"),
            Is.EqualTo(new[] { $"-2:{long.MaxValue}@2", "0:2@2", $"-1:{long.MaxValue}@2", "0:2@2", $"-3:{long.MaxValue}@2", "0:3@2", "0:1@2" }));
        var convs = graph.Node.Where(n => n.OpType == "Conv").ToList();
        Assert.That(convs.Select(n => string.Join(",", n.Attribute.Single(a => a.Name == "pads").Ints)), Is.All.EqualTo("0,0"));
        Assert.That(convs.Select(n => Producer(n.Input[0])), Is.EqualTo(new[] { "Concat", "Concat", "Concat", "Concat", "Conv" }));
        AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(42), 2, 3, 4, 9);
    }

    // Two convolutions, one without a bias, on inputs of several lengths: the graph's L is free, and so is each L_out.
    [Test]
    public void StackedConvolutionsExportAndMatchTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        var second = new Conv1d(4, 2, 2, stride: 3, padding: 2);
        using var model = new Sequential(new Conv1d(3, 4, 3, bias: false), new Tanh(), second);
        model.Build(device, seed: 19);
        model.Eval();
        AssertMatchesOnnxRuntimeAtLengths(model, ModuleExporter.Export(model), new Random(20), 3, 7, 12);

        using var wrongChannels = new Sequential(new Conv1d(3, 4, 3), new Conv1d(5, 2, 1));
        using var afterRecurrent = new Sequential(new Lstm(2, 3), new Slice(-1, 1), new Flatten(), new Conv1d(3, 2, 1));
        wrongChannels.Build(device);
        afterRecurrent.Build(device);
        Assert.That(Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(wrongChannels))!.Message, Does.StartWith("The Conv1d at '1' expects 5 channels (dim 1), but the value before it has 4"));
        Assert.That(Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(afterRecurrent))!.Message, Does.Contain("Conv1d '3' takes [N, C, L]").And.Contain("rank 2"));
    }

    // MaxPool1d is one MaxPool node and AvgPool1d one AveragePool node, their attributes those of the module; the
    // graph's L is free, and so is each L_out.
    [Test]
    public void SlidingPoolingsExportAsMaxPoolAndAveragePoolAndMatchTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(
            new Conv1d(3, 4, 3, padding: 1), new Relu(), new MaxPool1d(3, stride: 2, padding: 1, dilation: 2), new AvgPool1d(4, stride: 3, padding: 2, countIncludePad: false), new AvgPool1d(2));
        model.Build(device, seed: 27);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        static Dictionary<string, string> Attributes(Tensorlet.Onnx.Proto.NodeProto node)
            => node.Attribute.ToDictionary(a => a.Name, a => a.Ints.Count > 0 ? string.Join(",", a.Ints) : a.I.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(Attributes(graph.Node.Single(n => n.OpType == "MaxPool")), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["kernel_shape"] = "3",
            ["strides"] = "2",
            ["pads"] = "1,1",
            ["dilations"] = "2",
        }));
        var averages = graph.Node.Where(n => n.OpType == "AveragePool").Select(Attributes).ToList();
        Assert.That(averages, Has.Count.EqualTo(2));
        Assert.That(averages[0], Is.EquivalentTo(new Dictionary<string, string> { ["kernel_shape"] = "4", ["strides"] = "3", ["pads"] = "2,2", ["count_include_pad"] = "0" }));
        Assert.That(averages[1], Is.EquivalentTo(new Dictionary<string, string> { ["kernel_shape"] = "2", ["strides"] = "2", ["pads"] = "0,0", ["count_include_pad"] = "1" }));

        AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(28), 13, 20, 31);
    }

    // ceilMode is the nodes' ceil_mode 1; ONNX Runtime then gives the module's L_out (a last window past the end kept,
    // one that would start in the right padding dropped) and an average's divisor at every length from the shortest.
    [Test]
    public void CeilModePoolingsExportWithCeilModeAndMatchTensorletAtEveryLength()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (pool, shortest) in new (Module, int)[]
        {
            (new MaxPool1d(3, stride: 2, padding: 1, dilation: 2, ceilMode: true), 2),
            (new MaxPool1d(2, stride: 3, padding: 1, ceilMode: true), 1),
            (new AvgPool1d(3, stride: 2, padding: 1, ceilMode: true), 1),
            (new AvgPool1d(3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true), 1),
            (new AvgPool1d(2, stride: 3, padding: 1, ceilMode: true), 1),
            (new AvgPool1d(4, stride: 3, ceilMode: true), 2),
        })
        {
            using var model = new Sequential(pool);
            model.Build(device);
            var bytes = ModuleExporter.Export(model);
            var node = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph.Node.Single(n => n.OpType is "MaxPool" or "AveragePool");
            Assert.That(node.Attribute.Single(a => a.Name == "ceil_mode").I, Is.EqualTo(1), node.OpType);
            AssertMatchesOnnxRuntimeAtLengths(model, bytes, new Random(29), [.. Enumerable.Range(shortest, 14)]);
        }

        // A length fixed at 8 by a Linear: ceil mode declares L_out 4 where floor mode has 3.
        using var fixedLength = new Sequential(new Linear(10, 8), new MaxPool1d(3, stride: 2, ceilMode: true));
        fixedLength.Build(device, seed: 31);
        var fixedBytes = ModuleExporter.Export(fixedLength);
        var output = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(fixedBytes).Graph.Output[0];
        Assert.That(output.Type.TensorType.Shape.Dim[2].DimValue, Is.EqualTo(4));
        AssertMatchesOnnxRuntimeAtLengths(fixedLength, fixedBytes, new Random(32), 10);

        // Fixed at 10, k 2, stride 3, padding 1: the ceiling gives 5 windows, the fifth starting in the right padding,
        // which PyTorch drops (4). ONNX before 1.16 infers 5 and its checker refuses a declared 4, so the length is a
        // symbol; ONNX Runtime gives the 4 values.
        using var dropping = new Sequential(new Linear(10, 10), new MaxPool1d(2, stride: 3, padding: 1, ceilMode: true));
        dropping.Build(device, seed: 33);
        var droppingBytes = ModuleExporter.Export(dropping);
        var droppingOutput = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(droppingBytes).Graph.Output[0];
        Assert.That(droppingOutput.Type.TensorType.Shape.Dim[2].DimParam, Is.Not.Empty, "a symbol, not the dropped length");
        AssertMatchesOnnxRuntimeAtLengths(dropping, droppingBytes, new Random(34), 10);
    }

    // A window that does not fit a length fixed before it (by a Linear, or by the windows after one) is refused at
    // export in one line naming the layer, the length and the minimum, as the model's own Forward refuses that input,
    // instead of declaring an L_out of 0, which ONNX's checker refuses.
    [Test]
    public void AWindowLongerThanTheFixedLengthBeforeItIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (model, at, length, expected) in new (Sequential, string, int, string)[]
        {
            (new Sequential(new Linear(10, 3), new MaxPool1d(5)), "MaxPool1d at '1' needs an input length of at least 5", 3, "MaxPool1d"),
            (new Sequential(new Linear(10, 2), new Conv1d(3, 4, 5)), "Conv1d at '1' needs an input length of at least 5", 2, "Conv1d"),
            (new Sequential(new Linear(10, 6), new Conv1d(3, 4, 3), new AvgPool1d(6)), "AvgPool1d at '2' needs an input length of at least 6", 4, "AvgPool1d"),
            (new Sequential(new LayerNorm(4), new MaxPool1d(3, padding: 1, dilation: 3)), "MaxPool1d at '1' needs an input length of at least 5", 4, "MaxPool1d"),
            (new Sequential(new Linear(10, 1), new AvgPool1d(4, stride: 3, ceilMode: true)), "AvgPool1d at '1' needs an input length of at least 2", 1, "AvgPool1d in ceil mode"),
        })
        {
            using (model)
            {
                model.Build(device);
                model.Eval();
                var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
                Assert.That(e.Message, Is.EqualTo($"The {at}, but the length there is fixed at {length}."), expected);
                int width = model[0] is Linear linear ? linear.InFeatures : 4;
                using var input = device.FromArray(new float[2 * 3 * width], 2, 3, width);
                Assert.That(() => model.Forward(input), Throws.ArgumentException.With.Message.Contains("needs an input length of at least"), expected);
            }
        }
    }

    // Reflect padding needs each side below L, circular at most L: at a length fixed too short for it, the export is
    // refused in one line naming the layer, the padding and the length, as the model's Forward refuses that input
    // (ONNX Runtime's reflect Pad raises an error there, and circular padding's Slices would return fewer positions);
    // the longest padding that fits exports and runs.
    [Test]
    public void ModePaddingLongerThanTheFixedLengthBeforeItIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (mode, tooLong, longest, clause) in new[]
        {
            (PaddingMode.Reflect, 2, 1, "pads by reflection, which needs each side's padding below the input length (2 before, 2 after)"),
            (PaddingMode.Circular, 3, 2, "pads circularly, which wraps around at most once: each side's padding must be at most the input length (3 before, 3 after)"),
        })
        {
            using var tooShort = new Sequential(new Linear(10, 2), new Conv1d(3, 4, 3, padding: tooLong, paddingMode: mode));
            tooShort.Build(device);
            tooShort.Eval();
            var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(tooShort))!;
            Assert.That(e.Message, Is.EqualTo($"The Conv1d at '1' {clause}, but the length there is fixed at 2."));
            using var input = device.FromArray(new float[2 * 3 * 10], 2, 3, 10);
            Assert.That(() => tooShort.Forward(input), Throws.ArgumentException.With.Message.Contains(clause));

            using var fits = new Sequential(new Linear(10, 2), new Conv1d(3, 4, 3, padding: longest, paddingMode: mode));
            fits.Build(device, seed: 39);
            fits.Eval();
            AssertMatchesOnnxRuntimeAtLengths(fits, ModuleExporter.Export(fits), new Random(40), 10);
        }
    }

    // AdaptiveMaxPool1d(1) and AdaptiveAvgPool1d(1) are GlobalMaxPool and GlobalAveragePool: a char-CNN's head, whose
    // graph takes any length. A pooling first takes [N, C, L] with C and L free; another output size is refused.
    [Test]
    public void GlobalPoolingsExportAsGlobalPoolsAndOtherAdaptiveSizesAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var charCnn = new Sequential(new Conv1d(3, 4, 3, padding: 1), new Relu(), new AdaptiveMaxPool1d(1), new Flatten(), new Linear(4, 2));
        using var averaged = new Sequential(new AdaptiveAvgPool1d(1), new Flatten());
        var random = new Random(29);
        foreach (var (model, op, declared) in new (Sequential, string, string[])[] { (charCnn, "GlobalMaxPool", ["N", "3", "L"]), (averaged, "GlobalAveragePool", ["N", "C", "L"]) })
        {
            model.Build(device, seed: 30);
            model.Eval();
            var bytes = ModuleExporter.Export(model);
            var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
            Assert.That(graph.Node.Count(n => n.OpType == op), Is.EqualTo(1), op);
            Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(declared));
            AssertMatchesOnnxRuntimeAtLengths(model, bytes, random, 1, 6, 25);
        }

        foreach (var (pool, name) in new (Module, string)[] { (new AdaptiveMaxPool1d(3), "AdaptiveMaxPool1d"), (new AdaptiveAvgPool1d(2), "AdaptiveAvgPool1d") })
        {
            using var model = new Sequential(new Conv1d(3, 4, 3), pool);
            model.Build(device);
            var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
            Assert.That(e.Message, Does.StartWith($"The {name} at '1' has output size {(name == "AdaptiveMaxPool1d" ? 3 : 2)}; ONNX has no adaptive pooling, only the global one (output size 1).").And.Not.Contain('\n'));
        }
    }

    // The input is [N, C, L] when a Conv1d is the first module that decides the rank, whatever keeps the rank before
    // it (a BatchNorm1d, whose channels it takes; a Linear, whose width fixes L) and whatever comes after it (an Lstm).
    [Test]
    public void AModelWhoseFirstRankDecidingModuleIsAConv1dTakesNCLAndMatchesTensorlet()
    {
        var device = TestDevices.Get("cpu");
        var random = new Random(23);
        using var beforeLstm = new Sequential(new Conv1d(3, 4, 1), new Lstm(5, 6, batchFirst: true), new Slice(-1, 1, dim: 1), new Linear(6, 2));
        using var afterBatchNorm = new Sequential(new BatchNorm1d(3), new Conv1d(3, 4, 3), new Flatten(), new Linear(20, 2));
        using var afterLinear = new Sequential(new Linear(2, 3), new Conv1d(3, 2, 1));
        foreach (var (model, length, declared) in new (Sequential, int, string[])[]
        {
            (beforeLstm, 5, ["N", "3", "L"]),
            (afterBatchNorm, 7, ["N", "3", "L"]),
            (afterLinear, 2, ["N", "3", "2"]),
        })
        {
            model.Build(device, seed: 24);
            using var warmUp = device.FromArray(OnnxLayerTests.Uniform(random, 4 * 3 * length, 2f), 4, 3, length);
            model.Forward(warmUp); // in training mode: a BatchNorm1d's running statistics move off 0 and 1
            model.Eval();
            var bytes = ModuleExporter.Export(model);
            var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
            Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(declared));

            using var session = new OrtSession(bytes);
            var x = OnnxLayerTests.Uniform(random, 2 * 3 * length, 2f);
            using var input = device.FromArray(x, 2, 3, length);
            var expected = model.Forward(input);
            List<NamedOnnxValue> feeds = [OrtSession.Floats("input", x, 2, 3, length)];
            if (model == beforeLstm)
            {
                feeds.Add(OrtSession.Floats("1.h0", new float[2 * 6], 1, 2, 6));
                feeds.Add(OrtSession.Floats("1.c0", new float[2 * 6], 1, 2, 6));
            }

            var y = session.Run([.. feeds])["output"];
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()));
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance));
        }
    }

    // Each Permute is one Transpose by its dims. Token ids before a Conv1d are [N, L], both free: the graph runs at every
    // batch size and length, each dimension carried through the Transposes.
    [Test]
    public void EmbeddingPermuteConv1dPermuteLinearExportsAsTransposesAndMatchesTensorletAtEveryBatchAndLength()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Embedding(7, 4), new Permute(0, 2, 1), new Conv1d(4, 5, 3, padding: 1), new Relu(), new Permute(0, -1, 1), new Linear(5, 2));
        model.Build(device, seed: 25);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        var perms = graph.Node.Where(n => n.OpType == "Transpose").Select(n => n.Attribute.Single(a => a.Name == "perm").Ints).Where(p => p.Count == 3);
        Assert.That(perms.Select(p => string.Join(",", p)), Is.EqualTo(new[] { "0,2,1", "0,2,1" }), "the two Permutes (the Linear's weight has one of its own)");
        Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.DimParam), Is.EqualTo(new[] { "N", "L" }));
        Assert.That(graph.Output[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : $"{d.DimValue}"), Is.EqualTo(new[] { "N", "2.L_out", "2" }));

        AssertMatchesOnnxRuntimeOnIds(model, bytes, new Random(26), 7, (1, 5), (3, 8));
    }

    // Token ids before a pooling and no Conv1d are [N, L] too; time-major ids [L, N] put batch first by Permute(1, 2, 0),
    // as the newsgroup classifier's char-CNN reads them, are declared [L, N]. Either way the output is [N, 2], and the
    // graph runs at every batch size and length.
    [TestCase(false)]
    [TestCase(true)]
    public void IdsPermutedBatchFirstAreNamedByThePermuteAndTheOutputIsN(bool timeMajor)
    {
        var device = TestDevices.Get("cpu");
        using var model = timeMajor
            ? new Sequential(new Embedding(7, 4), new Permute(1, 2, 0), new Conv1d(4, 3, 3, padding: 1), new Relu(), new AdaptiveMaxPool1d(1), new Flatten(), new Linear(3, 2))
            : new Sequential(new Embedding(7, 4), new Permute(0, 2, 1), new MaxPool1d(2), new AdaptiveAvgPool1d(1), new Flatten(), new Linear(4, 2));
        model.Build(device, seed: 31);
        model.Eval();
        var bytes = ModuleExporter.Export(model);
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
        Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.DimParam), Is.EqualTo(timeMajor ? new[] { "L", "N" } : new[] { "N", "L" }));
        Assert.That(graph.Output[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : $"{d.DimValue}"), Is.EqualTo(new[] { "N", "2" }));

        AssertMatchesOnnxRuntimeOnIds(model, bytes, new Random(32), 7, timeMajor ? [(5, 1), (9, 3)] : [(1, 2), (3, 9)]);
    }

    // A Permute first decides the float input's rank, one dimension per dim; a Linear before it fixes the last.
    [Test]
    public void APermuteFirstDecidesTheInputsRankAndAPermuteOfAnotherRankIsRefused()
    {
        var device = TestDevices.Get("cpu");
        var random = new Random(27);
        using var afterLinear = new Sequential(new Linear(2, 3), new Permute(0, 2, 1), new Conv1d(3, 4, 2));
        using var rank4 = new Sequential(new Permute(2, 0, -1, 1), new Tanh());
        foreach (var (model, shape, declared) in new (Sequential, int[], string[])[]
        {
            (afterLinear, [2, 5, 2], ["N", "D1", "2"]),
            (rank4, [2, 3, 4, 5], ["N", "D1", "D2", "D3"]),
        })
        {
            model.Build(device, seed: 28);
            model.Eval();
            var bytes = ModuleExporter.Export(model);
            var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph;
            Assert.That(graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : $"{d.DimValue}"), Is.EqualTo(declared));
            using var session = new OrtSession(bytes);
            var x = OnnxLayerTests.Uniform(random, shape.Aggregate(1, (a, b) => a * b), 2f);
            using var input = device.FromArray(x, shape);
            var expected = model.Forward(input);
            var y = session.Run(OrtSession.Floats("input", x, shape))["output"];
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()));
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance));
        }

        using var wrongRank = new Sequential(new Conv1d(3, 4, 1), new Permute(1, 0));
        wrongRank.Build(device);
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(wrongRank))!;
        Assert.That(e.Message, Is.EqualTo("The Permute '1' permutes 2 dimensions; the value before it has rank 3."));
    }

    // A Flatten takes any rank from 2 on, so one before any Conv1d or recurrent module leaves the input's rank unknown.
    [Test]
    public void AFlattenBeforeAnyRankDecidingModuleIsRefusedInOneLine()
    {
        using var model = new Sequential(new Flatten(), new Linear(12, 2));
        model.Build(TestDevices.Get("cpu"));
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
        Assert.That(e.Message, Does.StartWith("The Flatten at '0' comes before any Conv1d, Conv2d, BatchNorm2d, 1-d or 2-d pooling, Permute, Lstm, Gru or Rnn, so the model's input rank cannot be known").And.Not.Contain('\n'));
    }

    [Test]
    public void BothFormsOfGeluExportAndMatchTensorlet()
    {
        using var model = new Sequential(new Linear(5, 8), new Gelu(), new Linear(8, 6), new Gelu(GeluApproximation.Tanh), new Linear(6, 3));
        model.Build(TestDevices.Get("cpu"), seed: 15);
        model.Eval();
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(ModuleExporter.Export(model)).Graph;
        Assert.That(graph.Node.Where(n => n.Name.StartsWith("1/", StringComparison.Ordinal)).Select(n => n.OpType).Distinct(), Is.EquivalentTo(new[] { "Div", "Erf", "Add", "Mul" }), "the exact form");
        Assert.That(graph.Node.Where(n => n.Name.StartsWith("3/", StringComparison.Ordinal)).Select(n => n.OpType).Distinct(), Is.EquivalentTo(new[] { "Mul", "Add", "Tanh" }), "the tanh form");
        AssertMatchesOnnxRuntimeOnRows(model, inFeatures: 5, outFeatures: 3, new Random(16), scale: 8f);
    }

    [Test]
    public void SiluAndLeakyReluExportAndMatchTensorlet()
    {
        using var model = new Sequential(new Linear(5, 8), new Silu(), new Linear(8, 6), new LeakyRelu(0.2f), new Linear(6, 3), new LeakyRelu());
        model.Build(TestDevices.Get("cpu"), seed: 17);
        model.Eval();
        var graph = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(ModuleExporter.Export(model)).Graph;
        Assert.That(graph.Node.Where(n => n.Name.StartsWith("1/", StringComparison.Ordinal)).Select(n => n.OpType), Is.EqualTo(new[] { "Sigmoid", "Mul" }), "SiLU as Sigmoid then Mul");
        var leaky = graph.Node.Where(n => n.OpType == "LeakyRelu").ToArray();
        Assert.That(leaky.Select(n => n.Attribute.Single(a => a.Name == "alpha").F), Is.EqualTo(new[] { 0.2f, 0.01f }), "each module's slope as alpha");
        AssertMatchesOnnxRuntimeOnRows(model, inFeatures: 5, outFeatures: 3, new Random(18), scale: 8f);
    }

    [Test]
    public void LayerNormsAfterALinearAndAnLstmMatchTensorletInEvalMode()
    {
        const int vocabulary = 7, embedding = 4, hidden = 5, classes = 3;
        var device = TestDevices.Get("cpu");
        using var mlp = new Sequential(new LayerNorm(5), new Linear(5, 8), new LayerNorm(8, bias: false), new Tanh(), new Linear(8, 3));
        mlp.Build(device, seed: 18);
        var random = new Random(19);
        mlp.Parameters.Values.CopyFrom(OnnxLayerTests.Uniform(random, (int)mlp.Parameters.Values.Length, 1f));
        mlp.Eval();
        using (var session = new OrtSession(ModuleExporter.Export(mlp)))
        {
            var x = OnnxLayerTests.Uniform(random, 4 * 5, 3f);
            using var input = device.FromArray(x, 4, 5);
            var y = session.Run(OrtSession.Floats("input", x, 4, 5))["output"];
            Assert.That(y.Shape, Is.EqualTo(new[] { 4, 3 }));
            Assert.That(y.Data, Is.EqualTo(mlp.Forward(input).ToArray()).Within(Tolerance), "Linear and LayerNorm");
        }

        using var recurrent = new Sequential(new Embedding(vocabulary, embedding), new Lstm(embedding, hidden), new LayerNorm(hidden, elementwiseAffine: false), new Linear(hidden, classes));
        recurrent.Build(device, seed: 20);
        AssertAnLstmModelOnIdsMatches(recurrent, vocabulary, hidden, classes, random, "LSTM and LayerNorm on [T, B, H]");
    }

    [Test]
    public void SoftmaxAndLogSoftmaxMatchTensorletOnTheLastAxisOfRank2AndRank3Output()
    {
        // Logits spread ×4 so the rows are far from uniform; [T, B, C] after an LSTM normalizes each of the T·B rows alone.
        const int vocabulary = 7, embedding = 4, hidden = 5, classes = 6;
        var device = TestDevices.Get("cpu");
        var random = new Random(23);
        foreach (SoftmaxModule last in new SoftmaxModule[] { new Softmax(), new LogSoftmax() })
        {
            using var mlp = new Sequential(new LogSoftmax(), new Linear(5, 8), new Tanh(), new Linear(8, classes), last);
            mlp.Build(device, seed: 22);
            mlp.Parameters.Values.CopyFrom(OnnxLayerTests.Uniform(random, (int)mlp.Parameters.Values.Length, 4f));
            mlp.Eval();
            using (var session = new OrtSession(ModuleExporter.Export(mlp)))
            {
                var x = OnnxLayerTests.Uniform(random, 4 * 5, 3f);
                using var input = device.FromArray(x, 4, 5);
                var y = session.Run(OrtSession.Floats("input", x, 4, 5))["output"];
                Assert.That(y.Shape, Is.EqualTo(new[] { 4, classes }));
                Assert.That(y.Data, Is.EqualTo(mlp.Forward(input).ToArray()).Within(Tolerance), $"{last.GetType().Name} on [N, C]");
            }

            using var recurrent = new Sequential(new Embedding(vocabulary, embedding), new Lstm(embedding, hidden), new Linear(hidden, classes), last is LogSoftmax ? new LogSoftmax() : new Softmax());
            recurrent.Build(device, seed: 24);
            AssertAnLstmModelOnIdsMatches(recurrent, vocabulary, hidden, classes, random, $"{last.GetType().Name} on [T, B, C]");
        }
    }

    // Sequential(Embedding, Lstm (one layer, the state "1.*"), ...) on token ids [3, 2] from a zero state, in evaluation mode.
    private static void AssertAnLstmModelOnIdsMatches(Sequential model, int vocabulary, int hidden, int outputs, Random random, string what)
    {
        const int batch = 2, steps = 3;
        var device = model.Device;
        model.Eval();
        using var session = new OrtSession(ModuleExporter.Export(model));
        var ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(vocabulary)).ToArray();
        using var input = device.IndexFromArray(ids, steps, batch);
        var zeros = new float[batch * hidden];
        var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("1.h0", zeros, 1, batch, hidden), OrtSession.Floats("1.c0", zeros, 1, batch, hidden));
        Assert.That(result["output"].Shape, Is.EqualTo(new[] { steps, batch, outputs }));
        Assert.That(result["output"].Data, Is.EqualTo(model.Forward(input).ToArray()).Within(Tolerance), what);
    }

    /// <summary>
    /// Batch-first LSTM and GRU models (Transposes around the ONNX recurrent nodes; the ids are transposed before their
    /// OneHot) on an Embedding's output, on dense input and on one-hot ids, the first two classifying from the last step
    /// (a Slice along dim 1), over calls of 1 to 3 steps (2 = B among them) with the [L, B, H] state fed back.
    /// </summary>
    [Test]
    public void ABatchNormBetweenLinearsAfterTrainingMatchesTensorletInEvalMode()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new BatchNorm1d(5), new Linear(5, 8, bias: false), new BatchNorm1d(8), new Relu(), new Linear(8, 3));
        model.Build(device, seed: 21);
        var random = new Random(22);
        foreach (int step in Enumerable.Range(0, 3))
        {
            // Training forwards move the running statistics away from zeros and ones.
            using var batch = device.FromArray(OnnxLayerTests.Uniform(random, 6 * 5, 2f + step), 6, 5);
            model.Forward(batch);
        }

        model.Eval();
        AssertMatchesOnnxRuntimeOnRows(model, inFeatures: 5, outFeatures: 3, random, scale: 3f);

        using var untracked = new Sequential(("fc", new Linear(4, 3)), ("bn", new BatchNorm1d(3, trackRunningStats: false)));
        untracked.Build(device);
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(untracked))!;
        Assert.That(e.Message, Does.Contain("BatchNorm1d 'bn'").And.Contain("trackRunningStats: false"));
    }

    [TestCase("lstm", "embedding")]
    [TestCase("gru", "embedding")]
    [TestCase("lstm", "dense")]
    [TestCase("gru", "dense")]
    [TestCase("lstm", "one-hot")]
    [TestCase("gru", "one-hot")]
    [TestCase("rnn", "embedding")]
    [TestCase("rnn-relu", "dense")]
    [TestCase("rnn", "one-hot")]
    public void ABatchFirstRecurrentModelMatchesTensorletOverCallsWithACarriedState(string cell, string input)
    {
        const int vocabulary = 7, width = 4, hidden = 5, layers = 2, classes = 3, batch = 2;
        var device = TestDevices.Get("cpu");
        bool lstm = cell == "lstm";
        int rnnWidth = input == "one-hot" ? vocabulary : width;
        var rnn = Recurrent(cell, rnnWidth, hidden, layers, batchFirst: true, bidirectional: false);
        rnn.CarryState = true;
        Module[] front = input == "embedding" ? [new Embedding(vocabulary, width)] : [];
        Module[] lastStep = input == "one-hot" ? [] : [new Slice(-1, 1, dim: 1)];
        using var model = new Sequential([.. front, rnn, .. lastStep, new Linear(hidden, classes)]);
        model.Build(device, seed: 21);
        model.Eval();

        using var session = new OrtSession(ModuleExporter.Export(model, tokenIds: input != "dense"));
        string state = input == "embedding" ? "1" : "0";
        var random = new Random(22);
        var h = new float[layers * batch * hidden];
        var c = new float[layers * batch * hidden];
        for (int call = 0; call < 6; call++)
        {
            int steps = 1 + (call % 3);
            var ids = Enumerable.Range(0, batch * steps).Select(_ => random.Next(vocabulary)).ToArray();
            var x = OnnxLayerTests.Uniform(random, batch * steps * width, 2f);
            using var idsTensor = device.IndexFromArray(ids, batch, steps);
            using var xTensor = device.FromArray(x, batch, steps, width);
            var expected = (input == "dense" ? model.Forward(xTensor) : model.Forward(idsTensor)).ToArray();
            List<NamedOnnxValue> feeds =
            [
                input == "dense" ? OrtSession.Floats("input", x, batch, steps, width) : OrtSession.Ids("input", ids, batch, steps),
                OrtSession.Floats($"{state}.h0", h, layers, batch, hidden),
            ];
            if (lstm)
            {
                feeds.Add(OrtSession.Floats($"{state}.c0", c, layers, batch, hidden));
            }

            var result = session.Run([.. feeds]);
            Assert.That(result["output"].Shape, Is.EqualTo(new[] { batch, input == "one-hot" ? steps : 1, classes }), $"call {call}");
            Assert.That(result["output"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            h = result[$"{state}.hn"].Data;
            var final = FinalHidden(rnn);
            Assert.That(h, Is.EqualTo(final.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final h of call {call}");
            if (lstm)
            {
                c = result[$"{state}.cn"].Data;
                Assert.That(c, Is.EqualTo(((Lstm)rnn).FinalState!.Cell.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final c of call {call}");
            }
        }
    }

    /// <summary>
    /// Two bidirectional layers as ONNX's direction="bidirectional" nodes: the output [.., 2H] through a Linear at every
    /// step, and the final states [2·layers, B, H], from a random initial state given to both, over calls of 1 to 3 steps.
    /// </summary>
    [TestCase("lstm", "embedding", false)]
    [TestCase("gru", "dense", true)]
    [TestCase("lstm", "one-hot", true)]
    [TestCase("gru", "one-hot", false)]
    [TestCase("rnn-relu", "dense", true)]
    [TestCase("rnn", "one-hot", false)]
    public void ABidirectionalRecurrentModelMatchesTensorlet(string cell, string input, bool batchFirst)
    {
        const int vocabulary = 7, width = 4, hidden = 5, layers = 2, classes = 3, batch = 2, entries = 2 * layers;
        var device = TestDevices.Get("cpu");
        bool lstm = cell == "lstm";
        int rnnWidth = input == "one-hot" ? vocabulary : width;
        var rnn = Recurrent(cell, rnnWidth, hidden, layers, batchFirst, bidirectional: true);
        Module[] front = input == "embedding" ? [new Embedding(vocabulary, width)] : [];
        using var model = new Sequential([.. front, rnn, new Linear(2 * hidden, classes)]);
        model.Build(device, seed: 23);
        model.Eval();

        using var session = new OrtSession(ModuleExporter.Export(model, tokenIds: input != "dense"));
        string state = input == "embedding" ? "1" : "0";
        var random = new Random(24);
        var h = OnnxLayerTests.Uniform(random, entries * batch * hidden, 0.5f);
        var c = OnnxLayerTests.Uniform(random, entries * batch * hidden, 0.5f);
        using RnnState initial = rnn switch
        {
            Lstm l => l.InitialState = l.CreateState(device, batch),
            Gru g => g.InitialState = g.CreateState(device, batch),
            _ => ((Rnn)rnn).InitialState = ((Rnn)rnn).CreateState(device, batch),
        };
        for (int j = 0; j < entries; j++)
        {
            initial.Hidden[j].CopyFrom(h.AsSpan(j * batch * hidden, batch * hidden));
            (initial as LstmState)?.Cell[j].CopyFrom(c.AsSpan(j * batch * hidden, batch * hidden));
        }

        for (int call = 0; call < 3; call++)
        {
            int steps = 1 + call;
            int[] sequence = batchFirst ? [batch, steps] : [steps, batch];
            var ids = Enumerable.Range(0, batch * steps).Select(_ => random.Next(vocabulary)).ToArray();
            var x = OnnxLayerTests.Uniform(random, batch * steps * width, 2f);
            using var idsTensor = device.IndexFromArray(ids, sequence);
            using var xTensor = device.FromArray(x, [.. sequence, width]);
            var expected = (input == "dense" ? model.Forward(xTensor) : model.Forward(idsTensor)).ToArray();
            List<NamedOnnxValue> feeds =
            [
                input == "dense" ? OrtSession.Floats("input", x, [.. sequence, width]) : OrtSession.Ids("input", ids, sequence),
                OrtSession.Floats($"{state}.h0", h, entries, batch, hidden),
            ];
            if (lstm)
            {
                feeds.Add(OrtSession.Floats($"{state}.c0", c, entries, batch, hidden));
            }

            var result = session.Run([.. feeds]);
            Assert.That(result["output"].Shape, Is.EqualTo((int[])[.. sequence, classes]), $"call {call}");
            Assert.That(result["output"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            var final = FinalHidden(rnn);
            Assert.That(result[$"{state}.hn"].Shape, Is.EqualTo(new[] { entries, batch, hidden }), $"call {call}");
            Assert.That(result[$"{state}.hn"].Data, Is.EqualTo(final.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final h of call {call}");
            if (lstm)
            {
                Assert.That(result[$"{state}.cn"].Data, Is.EqualTo(((Lstm)rnn).FinalState!.Cell.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final c of call {call}");
            }
        }
    }

    // An LSTM, GRU or RNN ("rnn" tanh, "rnn-relu" relu) of dropout 0.3, for the recurrent export tests.
    private static RnnBase Recurrent(string cell, int width, int hidden, int layers, bool batchFirst, bool bidirectional) => cell switch
    {
        "lstm" => new Lstm(width, hidden, layers, dropout: 0.3f, batchFirst: batchFirst, bidirectional: bidirectional),
        "gru" => new Gru(width, hidden, layers, dropout: 0.3f, batchFirst: batchFirst, bidirectional: bidirectional),
        _ => new Rnn(width, hidden, layers, cell == "rnn-relu" ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh, dropout: 0.3f, batchFirst: batchFirst, bidirectional: bidirectional),
    };

    private static IReadOnlyList<Tensor> FinalHidden(RnnBase rnn) => rnn switch
    {
        Lstm l => l.FinalState!.Hidden,
        Gru g => g.FinalState!.Hidden,
        _ => ((Rnn)rnn).FinalState!.Hidden,
    };

    [Test]
    public void SlicesAlongTheFirstAndTheLastDimensionMatchTensorlet()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(5, 8), new Slice(1, 3, dim: -1), new Tanh(), new Slice(-2, 2), new Linear(3, 2));
        model.Build(device, seed: 18);
        model.Eval();
        using var session = new OrtSession(ModuleExporter.Export(model));
        var x = OnnxLayerTests.Uniform(new Random(19), 4 * 5, 2f);
        using var input = device.FromArray(x, 4, 5);
        var expected = model.Forward(input).ToArray();
        var y = session.Run(OrtSession.Floats("input", x, 4, 5))["output"];
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void LinearsWithoutBiasExportAndMatchOnnxRuntimeOnFloatsAndOnTokenIds(bool tokenIds)
    {
        const int width = 6, rows = 5;
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(width, 4, bias: false), new Tanh(), new Linear(4, 3, bias: false));
        model.Build(device, seed: 16);
        model.Eval();
        var onnx = ModuleExporter.Export(model, tokenIds);
        using var session = new OrtSession(onnx);
        var ids = Enumerable.Range(0, rows).Select(i => (i * 4) % width).ToArray();
        var x = OnnxLayerTests.Uniform(new Random(17), rows * width, 2f);
        using var input = tokenIds ? null : device.FromArray(x, rows, width);
        using var inputIds = tokenIds ? device.IndexFromArray(ids, 1, rows) : null; // ids are declared [T, B]
        var expected = (tokenIds ? model.Forward(inputIds!) : model.Forward(input!)).ToArray();
        var y = session.Run(tokenIds ? OrtSession.Ids("input", ids, 1, rows) : OrtSession.Floats("input", x, rows, width))["output"];
        Assert.That(y.Shape, Is.EqualTo(tokenIds ? new[] { 1, rows, 3 } : new[] { rows, 3 }));
        Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void AnLstmOnOneHotTokenIdsAloneUsesPlainStateNames()
    {
        const int vocabulary = 6, hidden = 4, batch = 3, steps = 5;
        var device = TestDevices.Get("cpu");
        using var lstm = new Lstm(vocabulary, hidden);
        lstm.Build(device, seed: 15);
        lstm.Eval();
        using var session = new OrtSession(ModuleExporter.Export(lstm, tokenIds: true));
        var ids = Enumerable.Range(0, steps * batch).Select(i => (i * 5) % vocabulary).ToArray();
        using var input = device.IndexFromArray(ids, steps, batch);
        var expected = lstm.Forward(input).ToArray();
        var zeros = new float[batch * hidden];
        var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("h0", zeros, 1, batch, hidden), OrtSession.Floats("c0", zeros, 1, batch, hidden));
        Assert.That(result["output"].Data, Is.EqualTo(expected).Within(Tolerance));
        Assert.That(result["hn"].Data, Is.EqualTo(lstm.FinalState!.Hidden[0].ToArray()).Within(Tolerance));
    }

    [Test]
    public void AModuleWithoutAnExportIsNamed()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(("fc", new Linear(3, 2)), ("body", new Sequential(new Relu(), new Doubler())));
        model.Build(device);
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
        Assert.That(e.Message, Does.Contain(nameof(Doubler)).And.Contain("'body.1'"));

        using var embedded = new Sequential(new Embedding(4, 2), new Embedding(4, 2));
        embedded.Build(device);
        e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(embedded))!;
        Assert.That(e.Message, Does.Contain("Embedding at '1'").And.Contain("token ids"));
    }

    /// <summary>
    /// A module whose input width is not the width of the value before it (a Linear(H) after a bidirectional recurrent
    /// module, whose output is 2H wide) is refused at export, naming the layer and both widths, not by ONNX Runtime's
    /// shape inference when the graph is loaded.
    /// </summary>
    [TestCase(false, "Linear", "'1'", 6, "width 3")]
    [TestCase(true, "Linear", "'1'", 3, "width 6")]
    [TestCase(true, "LayerNorm", "'1'", 3, "width 6")]
    [TestCase(false, "BatchNorm1d", "'1'", 4, "3")]
    [TestCase(false, "Lstm", "'1'", 4, "width 3")]
    [TestCase(true, "Lstm", "'1'", 3, "width 6")]
    [TestCase(true, "Gru", "'1'", 3, "width 6")]
    public void AModuleOfAnotherInputWidthThanItIsGivenIsNamed(bool bidirectional, string kind, string layer, int takesWidth, string gets)
    {
        var device = TestDevices.Get("cpu");
        Module[] above = kind switch
        {
            "Linear" => [new Linear(takesWidth, 2)],
            "LayerNorm" => [new LayerNorm(takesWidth)],
            "Lstm" => [new Lstm(takesWidth, 2)],
            _ => [new Gru(takesWidth, 2)],
        };
        // BatchNorm1d's channels are dim 1, which only a value without a sequence fixes.
        using var model = kind == "BatchNorm1d" ? new Sequential(new Linear(2, 3), new BatchNorm1d(takesWidth)) : new Sequential([new Gru(2, 3, bidirectional: bidirectional), .. above]);
        model.Build(device);

        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;

        string takes = kind == "BatchNorm1d" ? $"{takesWidth} channels (dim 1)" : $"an input width of {takesWidth}";
        Assert.That(e.Message, Does.StartWith($"The {kind} at {layer} expects {takes}, but the value before it has {gets} (shape ["));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ModulesOfTheWidthTheyAreGivenExport(bool bidirectional)
    {
        var device = TestDevices.Get("cpu");
        int width = bidirectional ? 6 : 3;
        using var model = new Sequential(new Lstm(2, 3, bidirectional: bidirectional), new LayerNorm(width), new Gru(width, 4, bidirectional: bidirectional), new Slice(-1, 1), new Linear(bidirectional ? 8 : 4, 5));
        using var normalized = new Sequential(new Linear(2, 3), new BatchNorm1d(3));
        model.Build(device);
        normalized.Build(device);
        Assert.DoesNotThrow(() => ModuleExporter.Export(model));
        Assert.DoesNotThrow(() => ModuleExporter.Export(normalized));
    }

    [Test]
    public void AnUnbuiltModelOrAChildAloneIsRefusedAsAnExportError()
    {
        using var model = new Sequential(new Linear(3, 2), new Relu());
        Assert.That(Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!.Message, Does.Contain("has not been built"));
        model.Build(TestDevices.Get("cpu"));
        Assert.That(Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model[0]))!.Message, Does.Contain("Export the root module"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Slice(-2, 3), "a slice two from the end has at most two rows");
    }

    [Test]
    public void TheInputIsAsWideAsTheFirstModuleThatFixesAWidth()
    {
        var device = TestDevices.Get("cpu");
        using var mlp = new Sequential(new Relu(), new Gelu(), new Dropout(0.1f), new Linear(5, 3));
        mlp.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(mlp)), Is.EqualTo(new[] { "N", "5" }));
        using var softmaxFirst = new Sequential(new LogSoftmax(), new Softmax(), new Linear(4, 3));
        softmaxFirst.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(softmaxFirst)), Is.EqualTo(new[] { "N", "4" }));
        using var normalized = new Sequential(new Dropout(0.1f), new LayerNorm(6), new Linear(6, 3));
        normalized.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(normalized)), Is.EqualTo(new[] { "N", "6" }));
        using var batchNormalized = new Sequential(new BatchNorm1d(7), new Linear(7, 3));
        batchNormalized.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(batchNormalized)), Is.EqualTo(new[] { "N", "7" }));
        using var recurrent = new Sequential(new Tanh(), new Lstm(3, 4));
        recurrent.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(recurrent)), Is.EqualTo(new[] { "T", "B", "3" }));
        using var batchFirst = new Sequential(new Tanh(), new Gru(3, 4, batchFirst: true));
        batchFirst.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(batchFirst)), Is.EqualTo(new[] { "B", "T", "3" }));
        using var batchFirstIds = new Sequential(new Embedding(5, 3), new Lstm(3, 4, batchFirst: true));
        batchFirstIds.Build(device);
        Assert.That(InputShape(ModuleExporter.Export(batchFirstIds)), Is.EqualTo(new[] { "B", "T" }));

        static string[] InputShape(byte[] model) => [.. Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(model).Graph.Input[0].Type.TensorType.Shape.Dim
            .Select(d => d.DimParam is "" ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam)];
    }

    /// <summary>The exported <paramref name="model"/> run by ONNX Runtime against its Forward on 1, 4 and 9 rows of floats in ±<paramref name="scale"/>.</summary>
    // The exported graph against the model's Forward on x [2, 3, L] at each length.
    private static void AssertMatchesOnnxRuntimeAtLengths(Sequential model, byte[] bytes, Random random, params int[] lengths)
    {
        var device = model.Device;
        using var session = new OrtSession(bytes);
        foreach (int length in lengths)
        {
            var x = OnnxLayerTests.Uniform(random, 2 * 3 * length, 2f);
            using var input = device.FromArray(x, 2, 3, length);
            var expected = model.Forward(input);
            var y = session.Run(OrtSession.Floats("input", x, 2, 3, length))["output"];
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()), $"L = {length}");
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance), $"L = {length}");
        }
    }

    // Token ids [N, L] below vocabulary, at each (N, L).
    private static void AssertMatchesOnnxRuntimeOnIds(Sequential model, byte[] bytes, Random random, int vocabulary, params (int N, int Length)[] shapes)
    {
        using var session = new OrtSession(bytes);
        foreach (var (n, length) in shapes)
        {
            var ids = Enumerable.Range(0, n * length).Select(_ => random.Next(vocabulary)).ToArray();
            using var input = model.Device.IndexFromArray(ids, n, length);
            var expected = model.Forward(input);
            var y = session.Run(OrtSession.Ids("input", ids, n, length))["output"];
            Assert.That(y.Shape, Is.EqualTo(expected.Shape.ToArray()), $"[{n}, {length}]");
            Assert.That(y.Data, Is.EqualTo(expected.ToArray()).Within(Tolerance), $"[{n}, {length}]");
        }
    }

    private static void AssertMatchesOnnxRuntimeOnRows(Sequential model, int inFeatures, int outFeatures, Random random, float scale)
    {
        using var session = new OrtSession(ModuleExporter.Export(model));
        foreach (int rows in new[] { 1, 4, 9 })
        {
            var x = OnnxLayerTests.Uniform(random, rows * inFeatures, scale);
            using var input = model.Device.FromArray(x, rows, inFeatures);
            var expected = model.Forward(input).ToArray();
            var y = session.Run(OrtSession.Floats("input", x, rows, inFeatures))["output"];
            Assert.That(y.Shape, Is.EqualTo(new[] { rows, outFeatures }));
            Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
        }
    }

    /// <summary>A module the exporter does not know.</summary>
    private sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => throw new NotSupportedException();

        public override Tensor? Backward(Tensor outputGradient) => throw new NotSupportedException();
    }
}
