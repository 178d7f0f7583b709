// A program that uses Tensorlet as a package: builds a tiny GRU char model from modules, trains it on its own
// text, saves its state_dict, loads it into a fresh model and samples from it. CI builds it against the freshly
// packed .nupkg files and runs it; the checks after the example make a packaging mistake (a missing dependency or
// asset) fail loudly.
// The region between the example markers is the code shown in README.md; a test keeps them equal.
// <example>
using Tensorlet;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

var text = string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog sat on the log. ", 30));
string[] sequences = [.. Enumerable.Range(0, 96).Select(i => text.Substring(i * 7, 32))];
var vocabulary = CharVocabulary.FromTexts(sequences);
var data = CharSequenceDataset.Create(sequences, vocabulary); // character ids; each sequence predicts its next characters
int v = vocabulary.Count;

// Character ids [T, B] -> embedding -> 2-layer GRU -> next-character logits [T, B, V]; no backward pass to write.
Sequential CharModel() => new(new Embedding(v, 16), new Gru(16, 64, numLayers: 2), new Linear(64, v));

using var device = Device.Create("auto"); // cuda when a GPU is present, else cpu
using var model = CharModel();
model.Build(device, seed: 1);
using var loss = new CrossEntropyLoss();
using var adam = new Adam(model.Parameters, learningRate: 1e-2f);
var schedule = new StepLR(adam, stepSize: 6, gamma: 0.5);
var trainer = new Trainer(model, loss, adam, new TrainerOptions { Epochs = 8, BatchSize = 16 }, schedule);
var result = trainer.Train(new SequenceBatchSource(data.Indices, data.SequenceLength), validation: null);
Console.WriteLine($"{device.Description}: loss {result.Epochs[0].TrainLoss:F3} -> {result.Epochs[^1].TrainLoss:F3}");

// The state_dict under PyTorch's names (0.weight, 1.weight_ih_l0, ..., 2.bias) as safetensors, into a fresh model.
var path = Path.Combine(Path.GetTempPath(), "tiny-gru.safetensors");
ModuleCheckpoint.Save(model, path);
using var loaded = CharModel();
loaded.Build(device);
ModuleCheckpoint.Load(loaded, path);
int[] ids = SequenceGenerator.Generate(loaded, vocabulary.Encode("the "), length: 60, temperature: 0.5f, seed: 7);
Console.WriteLine("the " + vocabulary.Decode(ids));
// </example>

// Checks: the model learnt, the loaded model is the trained one, and Tensorlet.Onnx exports it.
int[] fromTrained = SequenceGenerator.Generate(model, vocabulary.Encode("the "), length: 60, temperature: 0.5f, seed: 7);
var failures = new List<string>();
double first = result.Epochs[0].TrainLoss, last = result.Epochs[^1].TrainLoss;
if (!(last < first && last < Math.Log(v) - 0.5))
{
    failures.Add($"the loss did not fall enough: {first:F3} -> {last:F3} (ln V = {Math.Log(v):F3})");
}

if (!fromTrained.AsSpan().SequenceEqual(ids))
{
    failures.Add("the model loaded from the checkpoint samples differently from the trained one");
}

if (Math.Abs(adam.LearningRate - 5e-3f) > 1e-9f)
{
    failures.Add($"the StepLR schedule did not halve the learning rate after 6 epochs: {adam.LearningRate}");
}

// Tensorlet.Onnx as a package: the module exports, with both GRU layers.
var onnx = Tensorlet.Onnx.ModuleExporter.Export(loaded);
string onnxText = System.Text.Encoding.Latin1.GetString(onnx);
if (!onnxText.Contains("1.l1.W", StringComparison.Ordinal) || !onnxText.Contains("GRU", StringComparison.Ordinal))
{
    failures.Add($"the ONNX export ({onnx.Length} bytes) lacks the second GRU layer");
}

File.Delete(path);
foreach (var failure in failures)
{
    Console.Error.WriteLine($"Consumer check failed: {failure}.");
}

Console.WriteLine(failures.Count == 0 ? "Consumer OK." : "Consumer FAILED.");
return failures.Count == 0 ? 0 : 1;
