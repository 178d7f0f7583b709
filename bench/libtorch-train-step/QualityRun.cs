using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// The libtorch column of docs/quality.md: the notebook's LSTM (one-hot characters, nn.LSTM(V, H, L, dropout 0.5),
/// nn.Linear(H, V)), Adam lr 2e-3, mean cross-entropy over all 99 steps, trained on the sequences of
/// <c>train.txt</c> in a new random order every epoch and scored on those of <c>validation.txt</c> after each one.
/// The two files are the split <c>Tensorlet.Bench quality</c> trains on (<c>--export-split DIR</c>): one 100-character
/// sequence per line. The vocabulary is their characters, sorted, as Tensorlet's.
/// </summary>
internal static class QualityRun
{
    public static int Run(string split, int hidden, int layers, int batch, int epochs)
    {
        string[] train, validation;
        try
        {
            train = File.ReadAllLines(Path.Combine(split, "train.txt"));
            validation = File.ReadAllLines(Path.Combine(split, "validation.txt"));
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"cannot read the split in {split}: {e.Message}");
            return 1;
        }

        var characters = train.Concat(validation).SelectMany(s => s).Distinct().Order().ToArray();
        var ids = characters.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i);
        int vocabulary = characters.Length;
        torch.manual_seed(1);
        var lstm = nn.LSTM(vocabulary, hidden, layers, batchFirst: true, dropout: 0.5);
        var body = new RecurrentOutput(lstm);
        var output = nn.Linear(hidden, vocabulary);
        var optimizer = torch.optim.Adam(body.parameters().Concat(output.parameters()).ToList(), lr: 2e-3);
        var criterion = nn.CrossEntropyLoss();
        using var trainIds = Encode(train, ids);
        using var validationIds = Encode(validation, ids);
        Console.WriteLine($"libtorch {torch.__version__}: LSTM {layers}x{hidden}, dropout 0.5, {train.Length} train and {validation.Length} validation sequences, {vocabulary} characters, {torch.get_num_threads()} threads");

        var random = new Random(1);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            body.train();
            var order = Enumerable.Range(0, train.Length).ToArray();
            random.Shuffle(order);
            double trainSum = 0;
            int batches = 0;
            for (int from = 0; from < order.Length; from += batch)
            {
                using var scope = torch.NewDisposeScope();
                var rows = torch.tensor(order[from..Math.Min(order.Length, from + batch)].Select(i => (long)i).ToArray());
                var sequences = trainIds.index_select(0, rows);
                optimizer.zero_grad();
                var loss = criterion.call(Logits(body, output, sequences, vocabulary), Targets(sequences));
                loss.backward();
                optimizer.step();
                trainSum += loss.item<float>();
                batches++;
            }

            double validationLoss = Score(body, output, validationIds, vocabulary, batch);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"libtorch lstm epoch {epoch}: train {trainSum / batches:F3}, validation {validationLoss:F4} nats ({validationLoss / Math.Log(2):F3} bits)"));
        }

        return 0;
    }

    // [N, 100] character ids.
    private static Tensor Encode(string[] sequences, Dictionary<char, long> ids)
    {
        int length = sequences[0].Length;
        var flat = sequences.SelectMany(s => s.Length == length ? s.Select(c => ids[c]) : throw new InvalidDataException($"a sequence of {s.Length} characters among sequences of {length}")).ToArray();
        return torch.tensor(flat, [sequences.Length, length]);
    }

    // Logits [N·99, V] of each character from the ones before it, one-hot in, as the notebook's model.
    private static Tensor Logits(nn.Module<Tensor, Tensor> body, nn.Module<Tensor, Tensor> output, Tensor sequences, int vocabulary)
    {
        var inputs = nn.functional.one_hot(sequences[.., ..^1], vocabulary).to_type(ScalarType.Float32);
        return output.call(body.call(inputs)).reshape(-1, vocabulary);
    }

    private static Tensor Targets(Tensor sequences) => sequences[.., 1..].reshape(-1);

    // The mean cross-entropy over every predicted character of the sequences, in evaluation mode.
    private static double Score(nn.Module<Tensor, Tensor> body, nn.Module<Tensor, Tensor> output, Tensor sequences, int vocabulary, int batch)
    {
        body.eval();
        using var noGrad = torch.no_grad();
        var criterion = nn.CrossEntropyLoss(reduction: nn.Reduction.Sum);
        double sum = 0;
        long count = 0;
        for (long from = 0; from < sequences.shape[0]; from += batch)
        {
            using var scope = torch.NewDisposeScope();
            var part = sequences[TensorIndex.Slice(from, Math.Min(sequences.shape[0], from + batch))];
            var targets = Targets(part);
            sum += criterion.call(Logits(body, output, part, vocabulary), targets).item<float>();
            count += targets.shape[0];
        }

        return sum / count;
    }
}
