using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Checkpoints;

/// <summary>
/// The PyTorch fixtures hold exactly the names, shapes and dtypes the protocol at the top of
/// scripts/make_torch_fixtures.py documents; the model tests rely on it.
/// </summary>
public sealed class TorchFixtureFormatTests
{
    private const SafeTensorDType F32 = SafeTensorDType.F32;
    private const SafeTensorDType I64 = SafeTensorDType.I64;

    private static readonly string[] LstmParameters =
    [
        "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
        "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
        "output.weight", "output.bias",
    ];

    private static readonly string[] NgramParameters = ["L1.weight", "L1.bias", "L2.weight", "L2.bias"];

    public static IEnumerable<string> Activations => ["relu", "tanh", "sigmoid"];

    [Test]
    public void LstmFixtureHoldsTheDocumentedTensors()
    {
        const int v = 7, h = 5, layers = 2, b = 3, t = 6;
        var parameters = LstmParameterShapes(v, h);
        var expected = new Dictionary<string, (SafeTensorDType, int[])>(parameters)
        {
            ["inputs"] = (I64, [b, t]),
            ["targets"] = (I64, [b, t]),
            ["lstm_out"] = (F32, [b, t, h]),
            ["logits"] = (F32, [b, t, v]),
            ["loss"] = (F32, []),
            ["h_n"] = (F32, [layers, b, h]),
            ["c_n"] = (F32, [layers, b, h]),
            ["state.h0"] = (F32, [layers, b, h]),
            ["state.c0"] = (F32, [layers, b, h]),
            ["state.logits"] = (F32, [b, t, v]),
            ["state.h_n"] = (F32, [layers, b, h]),
            ["state.c_n"] = (F32, [layers, b, h]),
            ["adam_losses"] = (F32, [3]),
        };
        AddGradientsAndAdam(expected, parameters);
        var file = Read("lstm.safetensors");

        AssertHolds(file, expected);
        AssertMetadata(file, ("fixture", "lstm"), ("vocab_size", "7"), ("hidden_dim", "5"), ("n_layers", "2"), ("dropout", "0"),
            ("batch", "3"), ("seq_len", "6"), ("adam_lr", "0.01"));
        AssertIndicesBelow(file["inputs"], v);
        AssertIndicesBelow(file["targets"], v);
        AssertAdamProtocol(file, LstmParameters);
        Assert.That(file["h_n"].Data.AsSpan(b * h, b * h).ToArray(), Is.EqualTo(LastStep(file["lstm_out"], b, t, h)),
            "h_n of the last layer is lstm_out at the last step, so the layout is batch_first [B, T, H]");
    }

    [TestCaseSource(nameof(Activations))]
    public void NgramFixtureHoldsTheDocumentedTensors(string activation)
    {
        const int n = 11, v = 7, hidden = 6, b = 8;
        var parameters = new Dictionary<string, (SafeTensorDType, int[])>
        {
            ["L1.weight"] = (F32, [hidden, n]),
            ["L1.bias"] = (F32, [hidden]),
            ["L2.weight"] = (F32, [v, hidden]),
            ["L2.bias"] = (F32, [v]),
        };
        var expected = new Dictionary<string, (SafeTensorDType, int[])>(parameters)
        {
            ["inputs"] = (I64, [b]),
            ["targets"] = (I64, [b]),
            ["hidden_pre"] = (F32, [b, hidden]),
            ["hidden"] = (F32, [b, hidden]),
            ["logits"] = (F32, [b, v]),
            ["loss"] = (F32, []),
            ["adam_losses"] = (F32, [3]),
        };
        AddGradientsAndAdam(expected, parameters);
        var file = Read($"ngram_{activation}.safetensors");

        AssertHolds(file, expected);
        AssertMetadata(file, ("fixture", $"ngram_{activation}"), ("ngram_vocab", "11"), ("char_vocab", "7"), ("hidden", "6"),
            ("activation", activation), ("batch", "8"), ("adam_lr", "0.01"));
        AssertIndicesBelow(file["inputs"], n);
        AssertIndicesBelow(file["targets"], v);
        AssertAdamProtocol(file, NgramParameters);
        var inputs = file["inputs"].ToInt32Array();
        Assert.That(inputs.Distinct().Count(), Is.LessThan(inputs.Length), "a repeated n-gram, so weight gradients accumulate");
    }

    [Test]
    public void NgramFixturesShareTheirInitialWeightsAndBatch()
    {
        var relu = Read("ngram_relu.safetensors");
        foreach (var activation in new[] { "tanh", "sigmoid" })
        {
            var other = Read($"ngram_{activation}.safetensors");
            foreach (var name in NgramParameters.Append("inputs").Append("targets"))
            {
                Assert.That(other[name].Data, Is.EqualTo(relu[name].Data), $"{activation}: {name}");
            }
        }
    }

    [Test]
    public void InteropCheckpointIsExactlyAStateDict()
    {
        const int v = 32, h = 16, b = 2, t = 10;
        var checkpoint = Read("lstm_interop.safetensors");
        AssertHolds(checkpoint, LstmParameterShapes(v, h));
        Assert.That(checkpoint.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["format"] = "pt" }));

        var io = Read("lstm_interop_io.safetensors");
        AssertHolds(io, new Dictionary<string, (SafeTensorDType, int[])> { ["inputs"] = (I64, [b, t]), ["logits"] = (F32, [b, t, v]) });
        AssertMetadata(io, ("fixture", "lstm_interop_io"), ("vocab_size", "32"), ("hidden_dim", "16"), ("n_layers", "2"));
        AssertIndicesBelow(io["inputs"], v);
    }

    [Test]
    public void DtypesFixtureHoldsOneTensorPerDtype()
    {
        AssertHolds(Read("dtypes.safetensors"), new Dictionary<string, (SafeTensorDType, int[])>
        {
            ["f32"] = (F32, [2, 3]),
            ["f64"] = (SafeTensorDType.F64, [2, 3]),
            ["f16"] = (SafeTensorDType.F16, [2, 3]),
            ["bf16"] = (SafeTensorDType.BF16, [2, 3]),
            ["i64"] = (I64, [6]),
            ["i32"] = (SafeTensorDType.I32, [6]),
            ["i16"] = (SafeTensorDType.I16, [6]),
            ["i8"] = (SafeTensorDType.I8, [6]),
            ["u8"] = (SafeTensorDType.U8, [5]),
            ["bool"] = (SafeTensorDType.Bool, [3]),
            ["scalar"] = (F32, []),
            ["empty"] = (F32, [0, 4]),
        });
    }

    private static Dictionary<string, (SafeTensorDType, int[])> LstmParameterShapes(int v, int h)
    {
        var shapes = new Dictionary<string, (SafeTensorDType, int[])>();
        for (var layer = 0; layer < 2; layer++)
        {
            shapes[$"lstm.weight_ih_l{layer}"] = (F32, [4 * h, layer == 0 ? v : h]);
            shapes[$"lstm.weight_hh_l{layer}"] = (F32, [4 * h, h]);
            shapes[$"lstm.bias_ih_l{layer}"] = (F32, [4 * h]);
            shapes[$"lstm.bias_hh_l{layer}"] = (F32, [4 * h]);
        }

        shapes["output.weight"] = (F32, [v, h]);
        shapes["output.bias"] = (F32, [v]);
        Assert.That(shapes.Keys, Is.EquivalentTo(LstmParameters));
        return shapes;
    }

    private static void AddGradientsAndAdam(Dictionary<string, (SafeTensorDType, int[])> expected, Dictionary<string, (SafeTensorDType, int[])> parameters)
    {
        foreach (var (name, spec) in parameters)
        {
            expected["grad." + name] = spec;
            expected["adam3." + name] = spec;
        }
    }

    private static SafeTensorsFile Read(string fixture) => SafeTensorsFile.Read(TestData.Fixture("torch/" + fixture));

    private static void AssertHolds(SafeTensorsFile file, IReadOnlyDictionary<string, (SafeTensorDType DType, int[] Shape)> expected)
    {
        Assert.That(file.Tensors.Keys, Is.EquivalentTo(expected.Keys), $"{file.Path}: the tensor names");
        foreach (var (name, (dtype, shape)) in expected)
        {
            Assert.That(file[name].DType, Is.EqualTo(dtype), $"{file.Path}: {name} dtype");
            Assert.That(file[name].Shape, Is.EqualTo(shape), $"{file.Path}: {name} shape");
        }
    }

    private static void AssertMetadata(SafeTensorsFile file, params (string Key, string Value)[] entries)
    {
        Assert.That(file.Metadata.ContainsKey("torch"), Is.True, $"{file.Path}: metadata names the torch version");
        foreach (var (key, value) in entries)
        {
            Assert.That(file.Metadata.GetValueOrDefault(key), Is.EqualTo(value), $"{file.Path}: metadata {key}");
        }
    }

    private static void AssertIndicesBelow(SafeTensor indices, int vocabulary) =>
        Assert.That(indices.ToInt64Array(), Has.All.InRange(0L, vocabulary - 1L), indices.Name);

    private static void AssertAdamProtocol(SafeTensorsFile file, IEnumerable<string> parameters)
    {
        var losses = file["adam_losses"].Data;
        Assert.That(losses[0], Is.EqualTo(file["loss"].Data[0]), "adam_losses[0] is the loss at the initial parameters");
        Assert.That(losses[2], Is.LessThan(losses[0]), "3 Adam steps on one batch lower its loss");
        foreach (var name in parameters)
        {
            Assert.That(file["adam3." + name].Data, Is.Not.EqualTo(file[name].Data), $"{name} moved");
            Assert.That(file["grad." + name].Data, Has.Some.Not.EqualTo(0f), $"{name} has a gradient");
        }
    }

    private static float[] LastStep(SafeTensor sequence, int b, int t, int h)
    {
        var last = new float[b * h];
        for (var i = 0; i < b; i++)
        {
            Array.Copy(sequence.Data, ((i * t) + t - 1) * h, last, i * h, h);
        }

        return last;
    }
}
