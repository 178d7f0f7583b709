using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Onnx;

namespace Tensorlet.Tests.App;

/// <summary><c>CharPredict export</c> on checkpoints of each model, run back with ONNX Runtime.</summary>
public sealed class ExportCommandTests
{
    private static readonly CharVocabulary Characters = CharVocabulary.FromTexts(["the cat sat."]);

    [Test]
    public void ExportsAnLstmCheckpointThatOnnxRuntimeRunsLikeTensorlet()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var device = TestDevices.Get("cpu");
            var spec = CharModelSpec.Lstm(Characters.Count, 6, 2, 0.2f);
            using var model = (LstmCharModel)spec.Create(device, seed: 21);
            var checkpoint = Path.Combine(folder, "lstm.safetensors");
            ModelCheckpoint.Save(checkpoint, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
            var onnx = Path.Combine(folder, "lstm.onnx");

            var result = AppHarness.Run("export", "--checkpoint", checkpoint, "--onnx", onnx);

            Assert.That(result.ExitCode, Is.EqualTo(CharPredictApp.Success), result.ToString());
            Assert.That(result.Stdout, Does.Contain("lstm.onnx").And.Contain("opset 14"));
            var ids = Characters.Encode("the cat");
            using var input = device.IndexFromArray(ids, ids.Length);
            var expected = model.Logits(input, 1, training: false, step: 0, initialState: null, finalState: null).ToArray();
            using var session = new OrtSession(File.ReadAllBytes(onnx));
            var zeros = new float[2 * 6];
            var logits = session.Run(OrtSession.Ids("input", ids, ids.Length, 1), OrtSession.Floats("h0", zeros, 2, 1, 6), OrtSession.Floats("c0", zeros, 2, 1, 6))["logits"];
            Assert.That(logits.Data, Is.EqualTo(expected).Within(2e-5));
            Assert.That(session.Metadata[Tensorlet.Onnx.CharModelExporter.VocabularyKey], Is.EqualTo(Characters.Serialize()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.Silu)]
    [TestCase(Activation.LeakyRelu)]
    public void ExportsAnNgramCheckpointThatOnnxRuntimeRunsLikeTensorlet(Activation activation)
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var device = TestDevices.Get("cpu");
            var ngrams = NgramVocabulary.FromNgrams(2, ["th", "he", "e ", " c", "ca", "at"]);
            var spec = CharModelSpec.Ngram(2, ngrams.Count, Characters.Count, 5, activation);
            using var model = (NgramMlp)spec.Create(device, seed: 22);
            var checkpoint = Path.Combine(folder, "ngram.safetensors");
            ModelCheckpoint.Save(checkpoint, model, spec, Characters, ngrams, new TrainingPosition(0, 0, 0));
            var onnx = Path.Combine(folder, "ngram.onnx");

            var result = AppHarness.Run("export", "--checkpoint", checkpoint, "--onnx", onnx);

            Assert.That(result.ExitCode, Is.EqualTo(CharPredictApp.Success), result.ToString());
            int[] ids = [0, 1, 2, 3, 4, 5];
            using var input = device.IndexFromArray(ids, ids.Length);
            var expected = model.Logits(input).ToArray();
            using var session = new OrtSession(File.ReadAllBytes(onnx));
            Assert.That(session.Run(OrtSession.Ids("input", ids, ids.Length))["logits"].Data, Is.EqualTo(expected).Within(2e-5));
            Assert.That(NgramVocabulary.Deserialize(session.Metadata[Tensorlet.Onnx.CharModelExporter.NgramVocabularyKey]).Ngrams, Is.EqualTo(ngrams.Ngrams));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ExportsAGruCheckpointThatOnnxRuntimeRunsLikeTensorlet()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var device = TestDevices.Get("cpu");
            var spec = CharModelSpec.Gru(Characters.Count, 5, 2, 0.2f);
            using var model = (GruCharModel)spec.Create(device, seed: 23);
            var checkpoint = Path.Combine(folder, "gru.safetensors");
            ModelCheckpoint.Save(checkpoint, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
            var onnx = Path.Combine(folder, "gru.onnx");

            var result = AppHarness.Run("export", "--checkpoint", checkpoint, "--onnx", onnx);

            Assert.That(result.ExitCode, Is.EqualTo(CharPredictApp.Success), result.ToString());
            var ids = Characters.Encode("the cat");
            using var input = device.IndexFromArray(ids, ids.Length);
            var expected = model.Logits(input, 1, training: false, step: 0, initialState: null, finalState: null).ToArray();
            using var session = new OrtSession(File.ReadAllBytes(onnx));
            var logits = session.Run(OrtSession.Ids("input", ids, ids.Length, 1), OrtSession.Floats("h0", new float[2 * 5], 2, 1, 5))["logits"];
            Assert.That(logits.Data, Is.EqualTo(expected).Within(2e-5));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void AnOutputThatIsTheCheckpointItselfIsRefusedAndTheCheckpointKept()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
            using var model = spec.Create(TestDevices.Get("cpu"), seed: 24);
            var checkpoint = Path.Combine(folder, "lstm.safetensors");
            ModelCheckpoint.Save(checkpoint, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
            var before = File.ReadAllBytes(checkpoint);

            AppHarness.Run("export", "--checkpoint", checkpoint, "--onnx", Path.Combine(folder, ".", "lstm.safetensors"))
                .AssertError(CharPredictApp.Failure, "is the file this command reads");

            // The same file through a symbolic link: to the file, or to a folder above it.
            var linked = Directory.CreateDirectory(Path.Combine(folder, "sub")).FullName;
            File.CreateSymbolicLink(Path.Combine(linked, "ck.safetensors"), checkpoint);
            Directory.CreateSymbolicLink(Path.Combine(folder, "up"), linked);
            AppHarness.Run("export", "--checkpoint", Path.Combine(linked, "ck.safetensors"), "--onnx", checkpoint)
                .AssertError(CharPredictApp.Failure, "is the file this command reads");
            AppHarness.Run("export", "--checkpoint", checkpoint, "--onnx", Path.Combine(folder, "up", "ck.safetensors"))
                .AssertError(CharPredictApp.Failure, "is the file this command reads");

            // A '..' after a linked folder leaves the folder the link leads to, as the system resolves it: a/s leads to
            // ../c, so a/s/../c/lstm.safetensors is the checkpoint in c/.
            var a = Directory.CreateDirectory(Path.Combine(folder, "a")).FullName;
            var c = Directory.CreateDirectory(Path.Combine(folder, "c")).FullName;
            File.Copy(checkpoint, Path.Combine(c, "lstm.safetensors"));
            File.CreateSymbolicLink(Path.Combine(a, "s"), "../c");
            File.CreateSymbolicLink(Path.Combine(a, "phys"), "s/../c/lstm.safetensors");
            AppHarness.Run("export", "--checkpoint", Path.Combine(a, "phys"), "--onnx", Path.Combine(c, "lstm.safetensors"))
                .AssertError(CharPredictApp.Failure, "is the file this command reads");
            Assert.That(File.ReadAllBytes(Path.Combine(c, "lstm.safetensors")), Is.EqualTo(before));

            Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(before));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void AMissingCheckpointIsOneErrorLineAndWritesNothing()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var onnx = Path.Combine(folder, "out.onnx");
            AppHarness.Run("export", "--checkpoint", Path.Combine(folder, "none.safetensors"), "--onnx", onnx).AssertError(CharPredictApp.Failure, "none.safetensors");
            Assert.That(File.Exists(onnx), Is.False);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void TheOnnxPathIsRequired()
        => AppHarness.Run("export", "--checkpoint", "x.safetensors").AssertError(CharPredictApp.UsageError, "--onnx");
}
