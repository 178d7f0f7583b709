using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Tests.Models;

public sealed class CharModelSpecTests
{
    // Specs exactly as checkpoints written before the key renames hold them.
    private const string OlderLstmJson =
        """{"kind":"lstm","vocabulary_size":8,"hidden_size":6,"layers":2,"dropout":0.5,"n":0,"ngram_vocabulary_size":0,"activation":"relu"}""";

    private const string OlderNgramJson =
        """{"kind":"ngram","vocabulary_size":8,"hidden_size":4,"layers":1,"dropout":0,"n":2,"ngram_vocabulary_size":3,"activation":"sigmoid"}""";

    private static readonly CharModelSpec LstmSpec = CharModelSpec.Lstm(8, 6, 2, 0.5f);
    private static readonly CharModelSpec NgramSpec = CharModelSpec.Ngram(2, 3, 8, 4, Activation.Sigmoid);

    [Test]
    public void TheParameterShapesAreThoseOfTheModelTheSpecCreates()
    {
        var device = Tensorlet.Tests.Infrastructure.TestDevices.Get("cpu");
        CharModelSpec[] specs =
        [
            CharModelSpec.Lstm(7, 5, 3, 0f), CharModelSpec.Gru(7, 5, 2, 0f), CharModelSpec.Rnn(7, 5, 2, 0f), CharModelSpec.Lstm(9, 4, 1, 0f),
            CharModelSpec.Ngram(3, 11, 7, 6, Tensorlet.Kernels.Activation.Tanh),
        ];
        foreach (var spec in specs)
        {
            using var model = spec.Create(device, seed: 1);
            Assert.That(spec.ParameterShapes().Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]"), Is.EqualTo(model.Parameters.Parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]")), spec.ToJson());
            Assert.That(spec.ParameterCount(), Is.EqualTo(model.Parameters.Length));
        }
    }

    [Test]
    public void SpecsRoundTripThroughJsonUnderTheCurrentKeys()
    {
        foreach (var spec in new[] { LstmSpec, NgramSpec })
        {
            var json = spec.ToJson();
            Assert.That(CharModelSpec.FromJson(json), Is.EqualTo(spec), json);
            Assert.That(JsonNode.Parse(json)!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[]
            {
                "kind", "char_vocabulary_size", "hidden_size", "num_layers", "dropout", "ngram_order", "ngram_vocabulary_size", "activation",
            }));
        }
    }

    [Test]
    public void SpecsWrittenUnderTheOlderKeysLoadToTheSameSpec()
    {
        Assert.That(CharModelSpec.FromJson(OlderLstmJson), Is.EqualTo(LstmSpec));
        Assert.That(CharModelSpec.FromJson(OlderNgramJson), Is.EqualTo(NgramSpec));
    }

    [TestCase("char_vocabulary_size", "vocabulary_size")]
    [TestCase("num_layers", "layers")]
    [TestCase("ngram_order", "n")]
    public void AKeyUnderNeitherNameIsRefused(string current, string older)
    {
        var fields = JsonNode.Parse(OlderLstmJson)!.AsObject();
        fields.Remove(older);

        var ex = Assert.Throws<JsonException>(() => CharModelSpec.FromJson(fields.ToJsonString()));
        Assert.That(ex!.Message, Does.Contain($"no '{current}'").And.Contain($"'{older}'"));
    }

    [TestCase("char_vocabulary_size", "vocabulary_size")]
    [TestCase("num_layers", "layers")]
    [TestCase("ngram_order", "n")]
    public void AKeyUnderBothNamesMustHaveOneValue(string current, string older)
    {
        var same = JsonNode.Parse(OlderNgramJson)!.AsObject();
        same[current] = same[older]!.DeepClone();
        Assert.That(CharModelSpec.FromJson(same.ToJsonString()), Is.EqualTo(NgramSpec));

        var conflicting = JsonNode.Parse(OlderNgramJson)!.AsObject();
        int olderValue = conflicting[older]!.GetValue<int>();
        conflicting[current] = olderValue + 1;
        var ex = Assert.Throws<JsonException>(() => CharModelSpec.FromJson(conflicting.ToJsonString()));
        Assert.That(ex!.Message, Does.Contain($"'{current}' as {olderValue + 1}").And.Contain($"'{older}'").And.Contain($"as {olderValue};"));
    }

    [TestCase("null", "empty")]
    [TestCase("[1, 2]", "JSON object")]
    public void JsonThatIsNotAnObjectIsRefused(string json, string expected)
    {
        var ex = Assert.Throws<JsonException>(() => CharModelSpec.FromJson(json));
        Assert.That(ex!.Message, Does.Contain(expected));
    }
}
