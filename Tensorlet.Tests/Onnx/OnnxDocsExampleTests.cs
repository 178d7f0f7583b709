using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Onnx;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Packaging;

namespace Tensorlet.Tests.Onnx;

/// <summary>
/// The ONNX Runtime example of docs/onnx.md is the region between <c>// &lt;onnx-example&gt;</c> markers below, so
/// it compiles and runs: it must generate what Tensorlet's greedy generation does, and the doc must quote it exactly.
/// </summary>
public sealed class OnnxDocsExampleTests
{
    private const string Marker = "<!-- example: Tensorlet.Tests/Onnx/OnnxDocsExampleTests.cs -->";

    [Test]
    public void TheDocsExampleGeneratesGreedilyLikeTensorlet()
    {
        var device = TestDevices.Get("cpu");
        // A character beyond U+FFFF (two chars in UTF-16) in the vocabulary, which the example must count as one id.
        var characters = CharVocabulary.FromTexts(["the cat sat on the mat. 😀 the 😀 sat."]);
        using var model = new LstmCharModel(device, characters.Count, 12, 2, dropout: 0f, seed: 30);
        var path = Path.Combine(Path.GetTempPath(), $"tensorlet-onnx-example-{Guid.NewGuid():N}.onnx");
        CharModelExporter.Write(path, CharModelExporter.Export(model, characters));
        try
        {
            var greedy = characters.Decode(SequenceGenerator.Generate(model, characters.Encode("the "), 60, temperature: 1e-4f, seed: 1));
            Assert.That(Example(path), Is.EqualTo("the " + greedy));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TheDocQuotesTheExample()
    {
        var source = DocText.Read("Tensorlet.Tests", "Onnx", "OnnxDocsExampleTests.cs");
        var region = Dedent(DocText.Between(source, "// <onnx-example>\n", "        // </onnx-example>", "OnnxDocsExampleTests.cs"));
        var block = DocText.QuotedBlock(DocText.Read("docs", "onnx.md"), Marker, "docs/onnx.md");
        Assert.That(block.Trim(), Is.EqualTo(region.Trim()), "docs/onnx.md's C# example differs from the example region of OnnxDocsExampleTests.cs; copy it into the doc.");
    }

    private static string Example(string path)
    {
        // <onnx-example>
        using var session = new InferenceSession(path);
        // Id i is the vocabulary's i-th character, a Rune (one char, or two for characters beyond U+FFFF such as emoji).
        List<Rune> vocabulary = [.. session.ModelMetadata.CustomMetadataMap["tensorlet.vocabulary"].EnumerateRunes()];
        int[] stateShape = [session.InputMetadata["h0"].Dimensions[0], 1, session.InputMetadata["h0"].Dimensions[2]]; // [L, 1, H]
        var (h, c) = (new DenseTensor<float>(stateShape), new DenseTensor<float>(stateShape));
        var text = new StringBuilder("the ");
        long[] input = [.. text.ToString().EnumerateRunes().Select(r => (long)vocabulary.IndexOf(r))];
        for (int i = 0; i < 60; i++)
        {
            using var outputs = session.Run([
                NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(input, [input.Length, 1])), // [T, B]
                NamedOnnxValue.CreateFromTensor("h0", h), NamedOnnxValue.CreateFromTensor("c0", c)]);
            float[] logits = outputs.First(o => o.Name == "logits").AsTensor<float>().ToArray()[^vocabulary.Count..];
            h = new DenseTensor<float>(outputs.First(o => o.Name == "hn").AsTensor<float>().ToArray(), stateShape);
            c = new DenseTensor<float>(outputs.First(o => o.Name == "cn").AsTensor<float>().ToArray(), stateShape);
            input = [Array.IndexOf(logits, logits.Max())]; // greedy; sample from softmax(logits / T) for variety
            text.Append(vocabulary[(int)input[0]].ToString());
        }

        // </onnx-example>
        return text.ToString();
    }

    private static string Dedent(string text) => string.Join('\n', text.Split('\n').Select(line => line.Length >= 8 ? line[8..] : line.TrimStart()));
}
