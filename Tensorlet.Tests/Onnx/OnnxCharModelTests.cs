using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Onnx.Proto;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Onnx;

/// <summary>The char models exported by <see cref="CharModelExporter"/> and run by ONNX Runtime, against Tensorlet on <c>cpu</c>.</summary>
public sealed class OnnxCharModelTests
{
    private const double Tolerance = 2e-5;
    private static readonly CharVocabulary Characters = CharVocabulary.FromTexts(["abcdefgh ."]);
    private static readonly NgramVocabulary Ngrams = NgramVocabulary.FromNgrams(3, ["abc", "bca", "cab", "a b", "h.a", "ggg", " ab"]);

    [TestCase(1)]
    [TestCase(2)]
    public void LstmModelLogitsAndStatesMatchTensorletOverManyStepsWithACarriedState(int layers)
    {
        const int batch = 2, hidden = 7;
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, hidden, layers, dropout: 0.3f, seed: 11);
        using var session = new OrtSession(CharModelExporter.Export(model, Characters));
        using var state = model.Lstm.CreateState(device, batch);
        var h = new float[layers * batch * hidden];
        var c = new float[layers * batch * hidden];
        var random = new Random(12);

        // 30 calls of 1 to 5 steps (90 steps), each side carrying its own state.
        for (int call = 0; call < 30; call++)
        {
            int steps = 1 + (call % 5);
            var ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(Characters.Count)).ToArray();
            using var input = device.IndexFromArray(ids, ids.Length);
            var expected = model.Logits(input, batch, training: false, step: 0, initialState: state, finalState: state).ToArray();
            var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("h0", h, layers, batch, hidden), OrtSession.Floats("c0", c, layers, batch, hidden));
            (h, c) = (result["hn"].Data, result["cn"].Data);
            Assert.That(result["logits"].Shape, Is.EqualTo(new[] { steps, batch, Characters.Count }));
            Assert.That(result["logits"].Data, Is.EqualTo(expected).Within(Tolerance), $"logits of call {call}");
            Assert.That(h, Is.EqualTo(Flatten(state.Hidden)).Within(Tolerance), $"final h of call {call}");
            Assert.That(c, Is.EqualTo(Flatten(state.Cell)).Within(Tolerance), $"final c of call {call}");
        }
    }

    [TestCase("GRU", 1)]
    [TestCase("GRU", 2)]
    [TestCase("RNN", 1)]
    [TestCase("RNN", 2)]
    public void GruAndRnnModelLogitsAndStateMatchTensorletOverManyStepsWithACarriedState(string node, int layers)
    {
        const int batch = 3, hidden = 6;
        var device = TestDevices.Get("cpu");
        var spec = node == "GRU" ? CharModelSpec.Gru(Characters.Count, hidden, layers, 0.3f) : CharModelSpec.Rnn(Characters.Count, hidden, layers, 0.3f);
        using var model = (RnnCharModel)spec.Create(device, seed: 19);
        var bytes = CharModelExporter.Export(model, Characters);
        using var session = new OrtSession(bytes);
        using RnnState state = model is GruCharModel gru ? gru.Gru.CreateState(device, batch) : ((ElmanCharModel)model).Rnn.CreateState(device, batch);
        var h = new float[layers * batch * hidden];
        var random = new Random(20);

        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.That(proto.Graph.Input.Select(i => i.Name), Is.EqualTo(new[] { "input", "h0" }));
        Assert.That(proto.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "logits", "hn" }));
        Assert.That(proto.Graph.Node.Count(n => n.OpType == node), Is.EqualTo(layers), $"one {node} node per layer");
        Assert.That(CharModelSpec.FromJson(session.Metadata[CharModelExporter.SpecKey]), Is.EqualTo(spec));

        // 20 calls of 1 to 4 steps, each side carrying its own state.
        for (int call = 0; call < 20; call++)
        {
            int steps = 1 + (call % 4);
            var ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(Characters.Count)).ToArray();
            using var input = device.IndexFromArray(ids, ids.Length);
            var expected = (model is GruCharModel g
                ? g.Logits(input, batch, training: false, step: 0, initialState: (GruState)state, finalState: (GruState)state)
                : ((ElmanCharModel)model).Logits(input, batch, training: false, step: 0, initialState: (RnnHiddenState)state, finalState: (RnnHiddenState)state)).ToArray();
            var result = session.Run(OrtSession.Ids("input", ids, steps, batch), OrtSession.Floats("h0", h, layers, batch, hidden));
            h = result["hn"].Data;
            Assert.That(result["logits"].Data, Is.EqualTo(expected).Within(Tolerance), $"logits of call {call}");
            Assert.That(h, Is.EqualTo(Flatten(state.Hidden)).Within(Tolerance), $"final h of call {call}");
        }
    }

    [TestCase(Activation.Relu)]
    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Sigmoid)]
    public void NgramModelLogitsMatchTensorletForEveryNgram(Activation activation)
    {
        var device = TestDevices.Get("cpu");
        using var model = new NgramMlp(device, Ngrams.Count, Characters.Count, 6, activation, seed: 13);
        using var session = new OrtSession(CharModelExporter.Export(model, Characters, Ngrams));
        int[] ids = [.. Enumerable.Range(0, Ngrams.Count), 3, 0];
        using var input = device.IndexFromArray(ids, ids.Length);
        var expected = model.Logits(input).ToArray();
        var logits = session.Run(OrtSession.Ids("input", ids, ids.Length))["logits"];
        Assert.That(logits.Shape, Is.EqualTo(new[] { ids.Length, Characters.Count }));
        Assert.That(logits.Data, Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void OnnxRuntimeGenerationDrawsTheSameCharactersAsTheLstmGenerator()
    {
        const int length = 120, seed = 5;
        const float temperature = 0.8f;
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, 8, 2, dropout: 0f, seed: 14);
        var start = Characters.Encode("bad cab");
        var expected = SequenceGenerator.Generate(model, start, length, temperature, seed);

        using var session = new OrtSession(CharModelExporter.Export(model, Characters));
        using var sampler = new CategoricalSampler(device, Characters.Count, seed);
        var h = new float[2 * 8];
        var c = new float[2 * 8];
        var drawn = new List<int>();
        int[] next = start;
        while (drawn.Count < length)
        {
            var result = session.Run(OrtSession.Ids("input", next, next.Length, 1), OrtSession.Floats("h0", h, 2, 1, 8), OrtSession.Floats("c0", c, 2, 1, 8));
            (h, c) = (result["hn"].Data, result["cn"].Data);
            using var lastRow = device.FromArray(result["logits"].Data.AsSpan((next.Length - 1) * Characters.Count, Characters.Count), 1, Characters.Count);
            next = [sampler.Draw(lastRow, temperature)];
            drawn.Add(next[0]);
        }

        Assert.That(Characters.Decode([.. drawn]), Is.EqualTo(Characters.Decode(expected)));
    }

    [Test]
    public void OnnxRuntimeGenerationDrawsTheSameCharactersAsTheNgramGenerator()
    {
        const int length = 80, seed = 6;
        const float temperature = 1.2f;
        var device = TestDevices.Get("cpu");
        using var model = new NgramMlp(device, Ngrams.Count, Characters.Count, 6, Activation.Tanh, seed: 15);
        const string start = "h.a";
        var expected = NgramGenerator.Generate(model, Characters, Ngrams, start, length, temperature, seed);

        using var session = new OrtSession(CharModelExporter.Export(model, Characters, Ngrams));
        var random = new Random(seed);
        using var sampler = new CategoricalSampler(device, Characters.Count, seed);
        var text = new System.Text.StringBuilder(start);
        for (int i = 0; i < length; i++)
        {
            var context = text.ToString(text.Length - 3, 3).EnumerateRunes().ToArray();
            int id = NgramGenerator.KnownNgram(context, Characters, Ngrams, random);
            var logits = session.Run(OrtSession.Ids("input", [id], 1))["logits"].Data;
            using var row = device.FromArray(logits, 1, Characters.Count);
            text.Append(Characters[sampler.Draw(row, temperature)]);
        }

        Assert.That(text.ToString(start.Length, length), Is.EqualTo(expected));
    }

    [Test]
    public void TheFileCarriesTheOpsetAndTheVocabulariesInItsMetadata()
    {
        var device = TestDevices.Get("cpu");
        using var model = new NgramMlp(device, Ngrams.Count, Characters.Count, 4, Activation.Relu, seed: 16);
        var bytes = CharModelExporter.Export(model, Characters, Ngrams);
        var proto = ModelProto.Parser.ParseFrom(bytes);
        Assert.That(proto.IrVersion, Is.EqualTo(7));
        Assert.That(proto.OpsetImport.Select(o => (o.Domain, o.Version)), Is.EqualTo(new[] { ("", 14L) }));
        Assert.That(proto.Graph.Input.Select(i => i.Name), Is.EqualTo(new[] { "input" }));
        Assert.That(proto.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "logits" }));

        using var session = new OrtSession(bytes);
        Assert.That(CharVocabulary.Deserialize(session.Metadata[CharModelExporter.VocabularyKey]), Is.EqualTo(Characters));
        Assert.That(NgramVocabulary.Deserialize(session.Metadata[CharModelExporter.NgramVocabularyKey]).Ngrams, Is.EqualTo(Ngrams.Ngrams));
        Assert.That(CharModelSpec.FromJson(session.Metadata[CharModelExporter.SpecKey]), Is.EqualTo(CharModelSpec.Ngram(3, Ngrams.Count, Characters.Count, 4, Activation.Relu)));
    }

    [Test]
    public void LstmModelDeclaresItsStateInputsAndOutputs()
    {
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, 5, 3, dropout: 0f, seed: 17);
        var proto = ModelProto.Parser.ParseFrom(CharModelExporter.Export(model, Characters));
        Assert.That(proto.Graph.Input.Select(i => i.Name), Is.EqualTo(new[] { "input", "h0", "c0" }));
        Assert.That(proto.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "logits", "hn", "cn" }));
        Assert.That(proto.Graph.Node.Count(n => n.OpType == "LSTM"), Is.EqualTo(3), "one LSTM node per layer");
        var h0Shape = proto.Graph.Input[1].Type.TensorType.Shape.Dim.Select(d => d.DimParam is "" ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam);
        Assert.That(h0Shape, Is.EqualTo(new[] { "3", "B", "5" }));
    }

    [Test]
    public void AModelWithoutAnExportIsNamed()
    {
        using var model = new UnknownModel();
        var e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(model, Characters))!;
        Assert.That(e.Message, Does.Contain(typeof(UnknownModel).FullName));
    }

    [Test]
    public void AStateDictThatDoesNotFitTheSpecIsRefused()
    {
        var device = TestDevices.Get("cpu");
        using var small = new LstmCharModel(device, Characters.Count, 8, 2, dropout: 0f, seed: 3);
        var weights = small.Parameters.ToHost();
        var e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(CharModelSpec.Lstm(Characters.Count, 16, 2, 0f), weights, Characters))!;
        Assert.That(e.Message, Does.Contain("'lstm.weight_ih_l0' is [32, ").And.Contain("[64, "));
        e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(CharModelSpec.Lstm(Characters.Count, 8, 1, 0f), weights, Characters))!;
        Assert.That(e.Message, Does.Contain("lstm.weight_ih_l1"), "a layer the spec lacks is not left out silently");
        weights.Remove("output.bias");
        e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(CharModelSpec.Lstm(Characters.Count, 8, 2, 0f), weights, Characters))!;
        Assert.That(e.Message, Does.Contain("no 'output.bias'"));

        using var ngram = new NgramMlp(device, Ngrams.Count + 2, Characters.Count, 4, Activation.Relu, seed: 18);
        e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(CharModelSpec.Ngram(Ngrams.NgramOrder, Ngrams.Count, Characters.Count, 4, Activation.Relu), ngram.Parameters.ToHost(), Characters, Ngrams))!;
        Assert.That(e.Message, Does.Contain("'L1.weight'"));
    }

    [Test]
    public void AnNgramModelWithoutItsNgramVocabularyIsRefused()
    {
        var device = TestDevices.Get("cpu");
        using var model = new NgramMlp(device, Ngrams.Count, Characters.Count, 4, Activation.Relu, seed: 18);
        var e = Assert.Throws<OnnxExportException>(() => CharModelExporter.Export(model, Characters))!;
        Assert.That(e.Message, Does.Contain("n-gram vocabulary"));
    }

    private static float[] Flatten(IReadOnlyList<Tensor> perLayer) => [.. perLayer.SelectMany(t => t.ToArray())];

    /// <summary>A char model of a kind the exporter does not know.</summary>
    private sealed class UnknownModel : ICharModel
    {
        public ModelKind Kind => ModelKind.Lstm;

        public Device Device => TestDevices.Get("cpu");

        public ParameterCollection Parameters { get; } = new();

        public int CharVocabularySize => Characters.Count;

        public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step) => throw new NotSupportedException();

        public void Backward() => throw new NotSupportedException();

        public void Dispose() => Parameters.Dispose();
    }
}
