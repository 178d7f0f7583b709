using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Onnx;

/// <summary>
/// Each layer builder of <see cref="OnnxGraphBuilder"/>, run by ONNX Runtime, against Tensorlet's layer on <c>cpu</c>
/// (or, where Tensorlet has no such layer yet, against a float64 reference written here), within float32 tolerance.
/// </summary>
public sealed class OnnxLayerTests
{
    private const double Tolerance = 2e-5;

    [Test]
    public void LinearMatchesTensorletOnRank2AndRank3Input()
    {
        var device = TestDevices.Get("cpu");
        using var parameters = new ParameterCollection();
        using var linear = new Linear(parameters, "fc", 5, 3);
        parameters.Build(device, seed: 1);
        var x = Uniform(new Random(2), 6 * 5, 2f);
        using var input = device.FromArray(x, 6, 5);
        var expected = linear.Forward(input).ToArray();

        var builder = new OnnxGraphBuilder(parameters.ToHost());
        var name = builder.Input("x", OnnxElementType.Float, "N", "M", 5);
        builder.Output(builder.Linear("fc", name), "y", OnnxElementType.Float, "N", "M", 3);
        using var session = new OrtSession(builder.ToModelBytes());
        var y = session.Run(OrtSession.Floats("x", x, 2, 3, 5))["y"];
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, 3 }));
        Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void OneHotLinearIsAGatherThatMatchesTensorlet()
    {
        var device = TestDevices.Get("cpu");
        using var parameters = new ParameterCollection();
        using var layer = new Linear(parameters, "L1", 7, 4);
        parameters.Build(device, seed: 3);
        int[] ids = [0, 6, 3, 3, 1];
        using var indices = device.IndexFromArray(ids, ids.Length);
        var expected = layer.Forward(indices).ToArray();

        var builder = new OnnxGraphBuilder(parameters.ToHost());
        builder.Output(builder.OneHotLinear("L1", builder.Input("ids", OnnxElementType.Int64, "N")), "y", OnnxElementType.Float, "N", 4);
        using var session = new OrtSession(builder.ToModelBytes());
        Assert.That(session.Run(OrtSession.Ids("ids", ids, ids.Length))["y"].Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [TestCase(Activation.Relu)]
    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.Gelu)]
    [TestCase(Activation.GeluTanh)]
    [TestCase(Activation.Silu)]
    public void ActivationMatchesTensorlet(Activation activation)
    {
        var device = TestDevices.Get("cpu");
        float[] x = [.. Uniform(new Random(4), 31, 4f), -30f, -10f, -5f, -0f, 0f, 1e-3f, 5f, 10f, 30f];
        using var input = device.FromArray(x, 8, 5);
        using var output = device.Zeros(8, 5);
        Ops.ActivationForward(activation, input, output);

        var builder = new OnnxGraphBuilder(new Dictionary<string, (int[], float[])>());
        builder.Output(builder.Activation(activation, builder.Input("x", OnnxElementType.Float, "N", 5)), "y", OnnxElementType.Float, "N", 5);
        using var session = new OrtSession(builder.ToModelBytes());
        Assert.That(session.Run(OrtSession.Floats("x", x, 8, 5))["y"].Data, Is.EqualTo(output.ToArray()).Within(Tolerance));
    }

    [TestCase(0.01f)]
    [TestCase(-0.5f)]
    [TestCase(1.5f)]
    public void LeakyReluMatchesTensorletWithItsSlopeAsAlpha(float slope)
    {
        var device = TestDevices.Get("cpu");
        float[] x = [.. Uniform(new Random(5), 35, 4f), -30f, -1e-3f, 1e-3f, 30f, 0f];
        using var input = device.FromArray(x, 8, 5);
        using var output = device.Zeros(8, 5);
        Ops.LeakyReluForward(input, output, slope);

        var builder = new OnnxGraphBuilder(new Dictionary<string, (int[], float[])>());
        builder.Output(builder.Activation(Activation.LeakyRelu, builder.Input("x", OnnxElementType.Float, "N", 5), negativeSlope: slope), "y", OnnxElementType.Float, "N", 5);
        var bytes = builder.ToModelBytes();
        var node = Tensorlet.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes).Graph.Node.Single(n => n.OpType == "LeakyRelu");
        Assert.That((node.OpType, node.Attribute.Single().Name, node.Attribute.Single().F), Is.EqualTo(("LeakyRelu", "alpha", slope)));
        using var session = new OrtSession(bytes);
        Assert.That(session.Run(OrtSession.Floats("x", x, 8, 5))["y"].Data, Is.EqualTo(output.ToArray()).Within(Tolerance));
    }

    [TestCase(true, true)]
    [TestCase(true, false)]
    [TestCase(false, false)]
    public void LayerNormIsItsCompositionAndMatchesTensorletOnRank3Input(bool affine, bool bias)
    {
        var device = TestDevices.Get("cpu");
        using var layer = new LayerNorm(6, epsilon: 1e-3f, elementwiseAffine: affine, bias: bias);
        layer.Build(device);
        var random = new Random(11);
        var stateDict = new Dictionary<string, (int[] Shape, float[] Data)>();
        if (affine)
        {
            layer.Parameters.Values.CopyFrom(Uniform(random, (int)layer.Parameters.Values.Length, 1.5f));
            stateDict = layer.StateDict().ToDictionary(p => "ln." + p.Key, p => p.Value);
        }

        // Rows around their own offsets, one of them nearly constant, where ε matters.
        var x = Uniform(random, 4 * 3 * 6, 2f).Select((v, i) => v + (i / 6) - 5f).ToArray();
        Array.Fill(x, 0.25f, 6, 6);
        x[7] = 0.2501f;
        using var input = device.FromArray(x, 4, 3, 6);
        var expected = layer.Forward(input).ToArray();

        var builder = new OnnxGraphBuilder(stateDict);
        var name = builder.Input("x", OnnxElementType.Float, "T", "B", 6);
        builder.Output(builder.LayerNorm("ln", name, 1e-3f, affine, bias), "y", OnnxElementType.Float, "T", "B", 6);
        using var session = new OrtSession(builder.ToModelBytes());
        var y = session.Run(OrtSession.Floats("x", x, 4, 3, 6))["y"];
        Assert.That(y.Shape, Is.EqualTo(new[] { 4, 3, 6 }));
        Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [TestCase(2, true)]
    [TestCase(3, true)]
    [TestCase(3, false)]
    public void BatchNormIsBatchNormalizationWithTheRunningStatisticsAndMatchesTensorletInEval(int rank, bool affine)
    {
        var device = TestDevices.Get("cpu");
        const int channels = 3, length = 5;
        using var layer = new BatchNorm1d(channels, epsilon: 1e-3f, affine: affine);
        layer.Build(device);
        var random = new Random(12);
        var state = layer.StateDict();
        foreach (var key in state.Keys.Where(k => k != "num_batches_tracked").ToList())
        {
            // Weight and bias around 1 and 0, a running mean in ±2 and a running variance in [0.1, 3.1).
            var values = Uniform(random, channels, 1f).Select(v => key == "running_var" ? (1.5f * v) + 1.6f : key == "running_mean" ? 2 * v : key == "weight" ? v + 1f : v).ToArray();
            state[key] = ([channels], values);
        }

        layer.LoadStateDict(state);
        layer.Eval();
        int[] shape = rank == 2 ? [4, channels] : [4, channels, length];
        var x = Uniform(random, shape.Aggregate(1, (a, b) => a * b), 3f);
        using var input = device.FromArray(x, shape);
        var expected = layer.Forward(input).ToArray();

        var builder = new OnnxGraphBuilder(layer.StateDict().ToDictionary(p => "bn." + p.Key, p => p.Value));
        OnnxDimension[] dims = rank == 2 ? ["N", channels] : ["N", channels, "L"];
        var name = builder.Input("x", OnnxElementType.Float, dims);
        builder.Output(builder.BatchNorm("bn", name, channels, 1e-3f, affine), "y", OnnxElementType.Float, dims);
        using var session = new OrtSession(builder.ToModelBytes());
        var y = session.Run(OrtSession.Floats("x", x, shape))["y"];
        Assert.That(y.Shape, Is.EqualTo(shape));
        Assert.That(y.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void DropoutIsTheIdentityAsTensorletsInferenceMode()
    {
        var device = TestDevices.Get("cpu");
        var x = Uniform(new Random(5), 12, 1f);
        using var input = device.FromArray(x, 3, 4);
        using var dropout = new Dropout(0.5f);
        var expected = dropout.Forward(input, training: false, seed: 1, stream: 0).ToArray();

        var builder = new OnnxGraphBuilder(new Dictionary<string, (int[], float[])>());
        builder.Output(builder.Dropout(builder.Input("x", OnnxElementType.Float, "N", 4)), "y", OnnxElementType.Float, "N", 4);
        using var session = new OrtSession(builder.ToModelBytes());
        Assert.That(session.Run(OrtSession.Floats("x", x, 3, 4))["y"].Data, Is.EqualTo(expected));
    }

    [Test]
    public void EmbeddingGathersRowsOfTheWeight()
    {
        // Tensorlet has no Embedding layer yet: the reference is nn.Embedding's definition, row i of the weight.
        var weight = Uniform(new Random(6), 9 * 3, 1f);
        var stateDict = new Dictionary<string, (int[], float[])> { ["emb.weight"] = ([9, 3], weight) };
        int[] ids = [8, 0, 4, 4, 2, 7];
        var builder = new OnnxGraphBuilder(stateDict);
        builder.Output(builder.Embedding("emb", builder.Input("ids", OnnxElementType.Int64, "T", "B")), "y", OnnxElementType.Float, "T", "B", 3);
        using var session = new OrtSession(builder.ToModelBytes());
        var y = session.Run(OrtSession.Ids("ids", ids, 3, 2))["y"];
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 2, 3 }));
        Assert.That(y.Data, Is.EqualTo(ids.SelectMany(i => weight.Skip(3 * i).Take(3)).ToArray()));
    }

    [TestCase(1)]
    [TestCase(3)]
    public void LstmMatchesTensorletOverManyStepsWithACarriedState(int layers)
    {
        const int input = 5, hidden = 6, batch = 3;
        var device = TestDevices.Get("cpu");
        using var parameters = new ParameterCollection();
        using var lstm = new Lstm(parameters, "lstm", input, hidden, layers, dropout: 0.4f);
        parameters.Build(device, seed: 7);
        var random = new Random(8);
        using var state = lstm.CreateState(device, batch);
        var h = Uniform(random, layers * batch * hidden, 1f);
        var c = Uniform(random, layers * batch * hidden, 1f);
        for (int k = 0; k < layers; k++)
        {
            state.Hidden[k].CopyFrom(h.AsSpan(k * batch * hidden, batch * hidden));
            state.Cell[k].CopyFrom(c.AsSpan(k * batch * hidden, batch * hidden));
        }

        var builder = new OnnxGraphBuilder(parameters.ToHost());
        var x = builder.Input("x", OnnxElementType.Float, "T", "B", input);
        var outputs = builder.Lstm("lstm", layers, x, builder.Input("h0", OnnxElementType.Float, layers, "B", hidden), builder.Input("c0", OnnxElementType.Float, layers, "B", hidden));
        builder.Output(outputs.Output, "y", OnnxElementType.Float, "T", "B", hidden);
        builder.Output(outputs.FinalHidden, "hn", OnnxElementType.Float, layers, "B", hidden);
        builder.Output(outputs.FinalCell!, "cn", OnnxElementType.Float, layers, "B", hidden);
        using var session = new OrtSession(builder.ToModelBytes());

        // 24 calls of 1 to 4 steps each (60 steps), both sides carrying their state from call to call.
        for (int call = 0; call < 24; call++)
        {
            int steps = 1 + (call % 4);
            var xs = Uniform(random, steps * batch * input, 2f);
            using var xTensor = device.FromArray(xs, steps * batch, input);
            var expected = lstm.Forward(xTensor, steps, batch, training: false, initialState: state, finalState: state).ToArray();
            var result = session.Run(OrtSession.Floats("x", xs, steps, batch, input), OrtSession.Floats("h0", h, layers, batch, hidden), OrtSession.Floats("c0", c, layers, batch, hidden));
            (h, c) = (result["hn"].Data, result["cn"].Data);
            Assert.That(result["y"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            Assert.That(h, Is.EqualTo(state.Hidden.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final h of call {call}");
            Assert.That(c, Is.EqualTo(state.Cell.SelectMany(t => t.ToArray()).ToArray()).Within(Tolerance), $"final c of call {call}");
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void GruMatchesAFloat64ReferenceOverManyStepsWithACarriedState(int layers)
    {
        const int input = 4, hidden = 5, batch = 2;
        var random = new Random(9);
        var reference = new ReferenceGru(random, "gru", input, hidden, layers);
        var h = Uniform(random, layers * batch * hidden, 1f);
        var referenceState = h.Select(v => (double)v).ToArray();

        var builder = new OnnxGraphBuilder(reference.StateDict);
        var outputs = builder.Gru("gru", layers, builder.Input("x", OnnxElementType.Float, "T", "B", input), builder.Input("h0", OnnxElementType.Float, layers, "B", hidden));
        builder.Output(outputs.Output, "y", OnnxElementType.Float, "T", "B", hidden);
        builder.Output(outputs.FinalHidden, "hn", OnnxElementType.Float, layers, "B", hidden);
        Assert.That(outputs.FinalCell, Is.Null);
        using var session = new OrtSession(builder.ToModelBytes());

        for (int call = 0; call < 20; call++)
        {
            int steps = 1 + (call % 4);
            var xs = Uniform(random, steps * batch * input, 2f);
            var expected = reference.Forward(xs, steps, batch, referenceState);
            var result = session.Run(OrtSession.Floats("x", xs, steps, batch, input), OrtSession.Floats("h0", h, layers, batch, hidden));
            h = result["hn"].Data;
            Assert.That(result["y"].Data, Is.EqualTo(expected).Within(Tolerance), $"outputs of call {call}");
            Assert.That(h, Is.EqualTo(referenceState).Within(Tolerance), $"final h of call {call}");
        }
    }

    [Test]
    public void StackedLayersChainLikeASequential()
    {
        // Embedding → Linear → Tanh → Dropout → Linear, against the same stack in float64.
        var random = new Random(10);
        var stateDict = new Dictionary<string, (int[] Shape, float[] Data)>
        {
            ["0.weight"] = ([6, 4], Uniform(random, 24, 1f)),
            ["1.weight"] = ([5, 4], Uniform(random, 20, 1f)),
            ["1.bias"] = ([5], Uniform(random, 5, 1f)),
            ["4.weight"] = ([3, 5], Uniform(random, 15, 1f)),
            ["4.bias"] = ([3], Uniform(random, 3, 1f)),
        };
        var builder = new OnnxGraphBuilder(stateDict);
        var x = builder.Embedding("0", builder.Input("ids", OnnxElementType.Int64, "N"));
        x = builder.Dropout(builder.Activation(Activation.Tanh, builder.Linear("1", x), "2"), "3");
        builder.Output(builder.Linear("4", x), "y", OnnxElementType.Float, "N", 3);
        using var session = new OrtSession(builder.ToModelBytes());
        int[] ids = [5, 1, 0, 3];
        var y = session.Run(OrtSession.Ids("ids", ids, ids.Length))["y"].Data;

        var expected = ids.SelectMany(id =>
        {
            var e = stateDict["0.weight"].Data.Skip(4 * id).Take(4).Select(v => (double)v).ToArray();
            var hiddenRow = ReferenceGru.Affine(stateDict["1.weight"].Data, stateDict["1.bias"].Data, e).Select(Math.Tanh).ToArray();
            return ReferenceGru.Affine(stateDict["4.weight"].Data, stateDict["4.bias"].Data, hiddenRow);
        }).ToArray();
        Assert.That(y, Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void AMissingOrMisshapenParameterIsNamed()
    {
        var stateDict = new Dictionary<string, (int[], float[])>
        {
            ["lstm.weight_ih_l0"] = ([8, 3], new float[24]),
            ["lstm.weight_hh_l0"] = ([8, 2], new float[16]),
            ["lstm.bias_ih_l0"] = ([8], new float[8]),
            ["lstm.bias_hh_l0"] = ([7], new float[7]),
            ["fc.weight"] = ([2, 3], new float[6]),
        };
        var builder = new OnnxGraphBuilder(stateDict);
        var x = builder.Input("x", OnnxElementType.Float, "T", "B", 3);
        var h0 = builder.Input("h0", OnnxElementType.Float, 2, "B", 2);
        var e = Assert.Throws<OnnxExportException>(() => builder.Lstm("lstm", 2, x, h0, h0))!;
        Assert.That(e.Message, Does.Contain("'lstm.bias_hh_l0'").And.Contain("[7]").And.Contain("[8]"));
        e = Assert.Throws<OnnxExportException>(() => builder.Linear("fc", x))!;
        Assert.That(e.Message, Does.Contain("Linear 'fc'").And.Contain("'fc.bias'"));
        e = Assert.Throws<OnnxExportException>(() => builder.Gru("rnn", 1, x, h0))!;
        Assert.That(e.Message, Does.Contain("GRU 'rnn'").And.Contain("'rnn.weight_ih_l0'"));
        e = Assert.Throws<OnnxExportException>(() => builder.LayerNorm("fc", x, 1e-5f))!;
        Assert.That(e.Message, Does.Contain("LayerNorm 'fc'").And.Contain("'fc.weight'").And.Contain("[2, 3]"));
        e = Assert.Throws<OnnxExportException>(() => builder.BatchNorm("fc", x, 3, 1e-5f, affine: false))!;
        Assert.That(e.Message, Does.Contain("BatchNorm1d 'fc'").And.Contain("'fc.running_mean'"));
        e = Assert.Throws<OnnxExportException>(() => builder.BatchNorm("fc", x, 3, 1e-5f, affine: false, layer: "BatchNorm2d"))!;
        Assert.That(e.Message, Does.Contain("BatchNorm2d 'fc'").And.Contain("'fc.running_mean'"));
        e = Assert.Throws<OnnxExportException>(() => builder.Activation((Activation)42, x, "act3"))!;
        Assert.That(e.Message, Does.Contain("'act3'").And.Contain("42"));
    }

    internal static float[] Uniform(Random random, int count, float scale)
        => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale))];
}
