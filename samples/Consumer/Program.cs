// A program that uses Tensorlet as a package: trains a tiny LSTM on its own text, saves a checkpoint,
// loads it back and samples from it. CI builds it against the freshly packed .nupkg files and runs it;
// the checks after the example make a packaging mistake (a missing dependency or asset) fail loudly.
// The region between the example markers is the code shown in README.md; a test keeps them equal.
// <example>
using Tensorlet;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
using Tensorlet.Optim;

var text = string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log. ", 30));
string[] sequences = [.. Enumerable.Range(0, 96).Select(i => text.Substring(i * 7, 32))];
var vocabulary = CharVocabulary.FromTexts(sequences);
var data = CharSequenceDataset.Create(sequences, vocabulary);

using var device = Device.Create("auto"); // cuda when a GPU is present, else cpu
var spec = CharModelSpec.Lstm(vocabulary.Count, hiddenSize: 64, numLayers: 2, dropout: 0f);
using var model = (LstmCharModel)spec.Create(device, seed: 1);
using var adam = new Adam(model.Parameters, learningRate: 1e-2f);
var trainer = new Trainer(model, adam, new TrainerOptions { Epochs = 8, BatchSize = 16 });
var result = trainer.Train(new SequenceBatchSource(data.Indices, data.SequenceLength), validation: null);
Console.WriteLine($"{device.Description}: loss {result.Epochs[0].TrainLoss:F3} -> {result.Epochs[^1].TrainLoss:F3}");

var path = Path.Combine(Path.GetTempPath(), "tiny-lstm.safetensors");
ModelCheckpoint.Save(path, model, spec, vocabulary, ngrams: null, result.Position);
var checkpoint = ModelCheckpoint.Read(path, ModelKind.Lstm);
using var loaded = (LstmCharModel)checkpoint.CreateModel(device);
int[] ids = LstmGenerator.Generate(loaded, checkpoint.Vocabulary.Encode("the "), length: 60, temperature: 0.5f, seed: 7);
Console.WriteLine("the " + checkpoint.Vocabulary.Decode(ids));
// </example>

// Checks: the model learnt, and the checkpoint holds exactly the trained model.
int[] fromTrained = LstmGenerator.Generate(model, vocabulary.Encode("the "), length: 60, temperature: 0.5f, seed: 7);
var failures = new List<string>();
double first = result.Epochs[0].TrainLoss, last = result.Epochs[^1].TrainLoss;
if (!(last < first && last < Math.Log(vocabulary.Count) - 0.5))
{
    failures.Add($"the loss did not fall enough: {first:F3} -> {last:F3} (ln V = {Math.Log(vocabulary.Count):F3})");
}

if (!fromTrained.AsSpan().SequenceEqual(ids))
{
    failures.Add("the model loaded from the checkpoint samples differently from the trained one");
}

if (!checkpoint.Vocabulary.Equals(vocabulary) || checkpoint.Position != result.Position)
{
    failures.Add("the checkpoint's vocabulary or training position differs from what was saved");
}

// Tensorlet.Onnx as a package: the checkpoint exports, and the file names the model's opset and vocabulary.
var onnx = Tensorlet.Onnx.CharModelExporter.Export(checkpoint);
string onnxText = System.Text.Encoding.Latin1.GetString(onnx);
if (!onnxText.Contains("lstm.l1.W", StringComparison.Ordinal) || !onnxText.Contains(Tensorlet.Onnx.CharModelExporter.VocabularyKey, StringComparison.Ordinal))
{
    failures.Add($"the ONNX export ({onnx.Length} bytes) lacks the second LSTM layer or the vocabulary");
}

ModelCheckpoint.Delete(path);
foreach (var failure in failures)
{
    Console.Error.WriteLine($"Consumer check failed: {failure}.");
}

Console.WriteLine(failures.Count == 0 ? "Consumer OK." : "Consumer FAILED.");
return failures.Count == 0 ? 0 : 1;
