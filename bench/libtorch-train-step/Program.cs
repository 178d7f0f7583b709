using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Bench.TrainStep;
using TorchSharp;
using static TorchSharp.torch;

// The notebook's training steps (as bench/pytorch_train_step.py), on libtorch through TorchSharp:
// --model lstm: one-hot input [B, 99, 32], nn.LSTM(32, H, L, batch_first) (or nn.GRU with --cell gru, nn.RNN (tanh) with --cell rnn), nn.Linear(H, 32);
// --model ngram: the n-gram MLP, one-hot n-gram ids [B, 4669], nn.Linear(4669, H), ReLU, nn.Linear(H, 32) (H = 100);
// --model cnn: the image classifier of train-step --model cnn (CnnNetwork.cs) on images [B, 3, 32, 32], 10 classes.
// All: mean cross-entropy, Adam(lr 2e-3). The step timed is zero_grad, one-hot (not for the CNN), forward, loss,
// backward, loss.item(), optimizer.step(). Data: synthetic random ids, or images uniform in [-1, 1) and random class
// ids (a step's cost depends only on the shapes), as train-step --synthetic.
// --model gemm times one matrix product of the LSTM step instead (GemmTiming.cs); --model quality trains the notebook's
// LSTM on a split that Tensorlet.Bench quality --export-split wrote, for docs/quality.md (QualityRun.cs).
// Usage: LibtorchTrainStep [--model lstm|ngram|cnn|gemm|quality] [--cell lstm|gru|rnn] [--hidden 256] [--layers 2] [--batch 100] [--batches 4]
//                          [--warmup 1] [--threads 2] [--ngrams 4669] [--shape OutputHead] [--copies 1] [--split DIR] [--epochs 10]
// Prints a summary line and, last, one JSON object with train-step's keys (chars_per_s, or images_per_s for the CNN,
// ms_per_batch_median, gflops).
const int SequenceLength = 100;
const int Characters = 32;

var (model, cellName, shape, options, split) = ParseOptions(args);
bool ngram = model == "ngram";
bool cnn = model == "cnn";
int hidden = options["hidden"], layers = options["layers"], batch = options["batch"];
int batches = options["batches"], warmup = options["warmup"], threads = options["threads"], ngrams = options["ngrams"];

torch.set_num_threads(threads);
if (model == "gemm")
{
    return GemmTiming.Run(shape, hidden, options["copies"]);
}

if (model == "quality")
{
    return QualityRun.Run(split, hidden, layers, batch, options["epochs"]);
}

torch.manual_seed(1234);
nn.Module<Tensor, Tensor> body = cnn
    ? CnnNetwork.Create()
    : ngram
        ? nn.Sequential(("L1", nn.Linear(ngrams, hidden)), ("act", nn.ReLU()))
        : cellName switch
        {
            "gru" => new RecurrentOutput(nn.GRU(Characters, hidden, layers, batchFirst: true)),
            "rnn" => new RecurrentOutput(nn.RNN(Characters, hidden, layers, batchFirst: true)),
            _ => new RecurrentOutput(nn.LSTM(Characters, hidden, layers, batchFirst: true)),
        };
nn.Module<Tensor, Tensor> output = cnn ? nn.Identity() : nn.Linear(hidden, Characters); // the CNN ends in its own Linear
var parameters = body.parameters().Concat(output.parameters()).ToList();
var optimizer = torch.optim.Adam(parameters, lr: 2e-3);
var criterion = nn.CrossEntropyLoss();
int vocabulary = ngram ? ngrams : Characters;
int classes = cnn ? CnnNetwork.Classes : Characters;

const int Pool = 16;
var pool = new List<(Tensor X, Tensor Y)>();
for (int i = 0; i < Pool; i++)
{
    if (cnn)
    {
        pool.Add(((2 * torch.rand(batch, CnnNetwork.Channels, CnnNetwork.ImageSize, CnnNetwork.ImageSize)) - 1, torch.randint(0, CnnNetwork.Classes, [batch], dtype: ScalarType.Int64)));
        continue;
    }

    if (ngram)
    {
        pool.Add((torch.randint(0, ngrams, [batch], dtype: ScalarType.Int64), torch.randint(0, Characters, [batch], dtype: ScalarType.Int64)));
        continue;
    }

    var s = torch.randint(0, Characters, [batch, SequenceLength], dtype: ScalarType.Int64);
    pool.Add((s[.., ..^1], s[.., 1..]));
}

double Step(int i)
{
    using var scope = torch.NewDisposeScope();
    var (x, y) = pool[i % Pool];
    optimizer.zero_grad();
    var input = cnn ? x : nn.functional.one_hot(x, vocabulary).to_type(ScalarType.Float32);
    var hiddenStates = body.call(input);
    var logits = output.call(hiddenStates);
    var loss = criterion.call(logits.reshape(-1, classes), y.reshape(-1));
    loss.backward();
    double value = loss.item<float>();
    optimizer.step();
    return value;
}

double firstLoss = Step(0);
if (!double.IsFinite(firstLoss) || Math.Abs(firstLoss - Math.Log(classes)) > 0.5)
{
    Console.Error.WriteLine($"first loss {firstLoss} is not near ln {classes}");
    return 1;
}

for (int i = 1; i < warmup; i++)
{
    Step(i);
}

var seconds = new List<double>();
double lastLoss = double.NaN;
var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
for (int i = 0; i < batches; i++)
{
    long t0 = Stopwatch.GetTimestamp();
    lastLoss = Step(warmup + i);
    seconds.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
}

double cpuPerBatch = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / batches;
var ordered = seconds.Order().ToList();
double median = ordered.Count % 2 == 1 ? ordered[ordered.Count / 2] : (ordered[(ordered.Count / 2) - 1] + ordered[ordered.Count / 2]) / 2;
int rows = ngram || cnn ? batch : batch * (SequenceLength - 1); // predicted characters, or images

// Tensorlet.Bench's GEMM FLOP count (TrainStepFlops.cs, linked): for the n-gram model, as the Python script, the output
// layer's three GEMMs (the one-hot input's product is the gather Tensorlet does, not counted); for the CNN, the first
// convolution's input gradient, which neither side computes, is not counted either.
double flops = model switch
{
    "cnn" => TrainStepFlops.Cnn(batch, CnnNetwork.Channels, CnnNetwork.ImageSize, CnnNetwork.Widths, CnnNetwork.Classes),
    "ngram" => TrainStepFlops.Ngram(batch, hidden, Characters),
    _ => TrainStepFlops.Recurrent(TrainStepFlops.Gates(cellName), batch, SequenceLength - 1, hidden, layers, Characters),
};
string described = cnn ? $"cnn conv {string.Join("->", CnnNetwork.Widths)}->{CnnNetwork.Classes}" : ngram ? $"ngram {ngrams}->{hidden}->{Characters}" : $"{cellName} {layers}x{hidden}";
string unit = cnn ? "images" : "chars";

string torchVersion = torch.__version__;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"libtorch {torchVersion} {described}, batch {batch}, {torch.get_num_threads()} threads"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first loss {firstLoss:F4}; median {median * 1000:F2} ms/batch, CPU {cpuPerBatch * 1000:F2} ms/batch, {rows / median:N0} {unit}/s, {flops / median / 1e9:F1} GFLOP/s"));
var report = new Dictionary<string, object?>
{
    ["impl"] = "libtorch",
    ["torch"] = torchVersion,
    ["model"] = model,
    ["cell"] = ngram || cnn ? null : cellName,
    ["hidden"] = cnn ? null : hidden,
    ["layers"] = cnn ? null : layers,
    ["batch"] = batch,
    ["threads"] = torch.get_num_threads(),
    ["data"] = "synthetic",
    ["warmup"] = warmup,
    ["batches"] = batches,
    ["ms_per_batch_median"] = Math.Round(median * 1000, 4),
    ["cpu_ms_per_batch"] = Math.Round(cpuPerBatch * 1000, 4),
    [$"{unit}_per_batch"] = rows,
    [$"{unit}_per_s"] = Math.Round(rows / median),
    ["gemm_gflop_per_batch"] = Math.Round(flops / 1e9, 4),
    ["gflops"] = Math.Round(flops / median / 1e9, 4),
    ["first_loss"] = Math.Round(firstLoss, 4),
    ["last_loss"] = Math.Round(lastLoss, 4),
};
Console.WriteLine(JsonSerializer.Serialize(report));
return 0;

static (string Model, string Cell, string Shape, Dictionary<string, int> Numbers, string Split) ParseOptions(string[] args)
{
    var words = new Dictionary<string, string[]> { ["model"] = ["lstm", "ngram", "cnn", "gemm", "quality"], ["cell"] = ["lstm", "gru", "rnn"], ["shape"] = GemmTiming.Shapes };
    var chosen = new Dictionary<string, string> { ["model"] = "lstm", ["cell"] = "lstm", ["shape"] = "OutputHead" };
    var values = new Dictionary<string, int> { ["hidden"] = 256, ["layers"] = 2, ["batch"] = 100, ["batches"] = 4, ["warmup"] = 1, ["threads"] = 2, ["ngrams"] = 4669, ["copies"] = 1, ["epochs"] = 10 };
    string split = "";
    bool hiddenGiven = false;
    for (int i = 0; i < args.Length; i += 2)
    {
        string name = args[i].TrimStart('-');
        string? text = i + 1 < args.Length ? args[i + 1] : null;
        if (words.TryGetValue(name, out var allowed) && text is not null && allowed.Contains(text))
        {
            chosen[name] = text;
            continue;
        }

        if (name == "split" && text is not null)
        {
            split = text;
            continue;
        }

        int value = -1;
        if (!values.ContainsKey(name) || text is null || !int.TryParse(text, CultureInfo.InvariantCulture, out value) || value < 0)
        {
            Console.Error.WriteLine($"usage: LibtorchTrainStep [--model lstm|ngram|cnn|gemm|quality] [--cell lstm|gru|rnn] [--shape {string.Join('|', GemmTiming.Shapes)}] [--split DIR] [--{string.Join(" N] [--", values.Keys)} N]");
            Environment.Exit(2);
        }

        values[name] = value;
        hiddenGiven |= name == "hidden";
    }

    if (chosen["model"] == "ngram" && !hiddenGiven)
    {
        values["hidden"] = 100; // the notebook's n-gram MLP
    }

    if (chosen["model"] == "quality" && split.Length == 0)
    {
        Console.Error.WriteLine("--model quality needs --split DIR: the train.txt and validation.txt that Tensorlet.Bench quality --export-split DIR writes.");
        Environment.Exit(2);
    }

    return (chosen["model"], chosen["cell"], chosen["shape"], values, split);
}

/// <summary>nn.LSTM, nn.GRU or nn.RNN returning only its output sequence.</summary>
internal sealed class RecurrentOutput : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module inner;

    public RecurrentOutput(TorchSharp.Modules.LSTM lstm) : base("lstm")
    {
        inner = lstm;
        RegisterComponents();
    }

    public RecurrentOutput(TorchSharp.Modules.GRU gru) : base("gru")
    {
        inner = gru;
        RegisterComponents();
    }

    public RecurrentOutput(TorchSharp.Modules.RNN rnn) : base("rnn")
    {
        inner = rnn;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => inner switch
    {
        TorchSharp.Modules.LSTM lstm => lstm.call(input).Item1,
        TorchSharp.Modules.GRU gru => gru.call(input).Item1,
        TorchSharp.Modules.RNN rnn => rnn.call(input).Item1,
        _ => throw new InvalidOperationException(),
    };
}
