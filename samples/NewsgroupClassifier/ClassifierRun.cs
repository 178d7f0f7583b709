using System.Diagnostics;
using System.Globalization;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>The run's settings, from the command line.</summary>
internal sealed record ClassifierOptions(string Device, int Epochs, int MaxChars, int Embedding, int Hidden, int Batch, float LearningRate, int Seed);

/// <summary>Builds the model from library modules, trains it on the train split and measures accuracy on the test split after every epoch.</summary>
internal static class ClassifierRun
{
    // The most classes a run can have: the 20 newsgroups.
    private const int MaxClasses = 20;

    /// <summary>Trains and prints one line per epoch: train loss, test accuracy, time.</summary>
    public static void Train(CleanedCorpus corpus, ClassifierOptions options, Tensorlet.Device device, TextWriter output)
    {
        // A batch larger than the posts is all of them (the same single batch per epoch): the buffers and the model's
        // activations are sized for the posts there are.
        int trainBatch = Math.Max(1, Math.Min(options.Batch, corpus.Train.Count));
        int batch = Math.Max(trainBatch, Math.Min(options.Batch, corpus.Test.Count));
        int classes = corpus.Groups.Count;
        CheckSizes(options, batch);
        RunMemory.Check(options, corpus.Train.Count + corpus.Test.Count, batch, classes, device);
        var train = Examples(corpus.Train, options.MaxChars);
        var test = Examples(corpus.Test, options.MaxChars);

        // Characters [T, B] → embedding [T, B, E] → LSTM [T, B, H] → last step [1, B, H] → Linear [1, B, classes]. The
        // padding in front of a short post embeds to a zero row that training leaves at zero, as nn.Embedding's padding_idx.
        var embedding = new Embedding(PostCleaning.VocabularySize, options.Embedding, paddingIdx: PostCleaning.PaddingId);
        using var model = new Sequential(
            embedding,
            new Lstm(options.Embedding, options.Hidden),
            new Slice(start: -1, count: 1),
            new Linear(options.Hidden, classes));
        model.Build(device, options.Seed);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Adam(model.Parameters, learningRate: options.LearningRate);
        var trainer = new Trainer(model, loss, optimizer, new TrainerOptions
        {
            Epochs = options.Epochs,
            BatchSize = trainBatch,
            Seed = options.Seed,
            GradientClipNorm = 1.0,
        });

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{device.Description}: Embedding({PostCleaning.VocabularySize}, {options.Embedding}, padding_idx={embedding.PaddingIdx}) → LSTM({options.Hidden}) → last step → Linear({classes}); {options.MaxChars} characters per post, batch {options.Batch}, Adam lr {options.LearningRate}."));
        var total = Stopwatch.StartNew();
        var evaluation = new Stopwatch();
        trainer.EpochCompleted += report =>
        {
            evaluation.Restart();
            int correct = CountCorrect(model, device, test, options.Batch, classes);
            evaluation.Stop();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {report.Epoch}/{options.Epochs}: train loss {report.TrainLoss:F4}, test accuracy {100.0 * correct / Math.Max(1, test.Count):F2}% ({correct}/{test.Count}), train {report.Duration.TotalSeconds:F1} s, test {evaluation.Elapsed.TotalSeconds:F1} s"));
        };
        trainer.Train(train, validation: null);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done in {total.Elapsed.TotalSeconds:F1} s."));
    }

    /// <summary>
    /// Why the model's weights cannot be made whatever the corpus: the LSTM's, [4H, H] and [4H, E], or the embedding's,
    /// [V, E], or all of them together, which share one buffer of parameters, hold more values than one tensor can (the
    /// library refuses them only when the model is built). Null when they fit. A command-line error (exit code 2), checked when the options are parsed.
    /// Computed in doubles, which no option can overflow.
    /// </summary>
    public static string? WeightsError(int hidden, int embedding)
    {
        (string What, double Values)[] weights =
        [
            ($"The LSTM's weights for --hidden {hidden} and --embedding {embedding}", 4.0 * hidden * Math.Max(hidden, embedding)),
            ($"The embedding's weights for --embedding {embedding}", (double)PostCleaning.VocabularySize * embedding),

            // All of them share one buffer of parameters: the embedding, the LSTM (two bias vectors) and the head (at most
            // MaxClasses classes, as the corpus has 20).
            ($"The model's parameters for --hidden {hidden} and --embedding {embedding}, which share one buffer,",
                ((double)PostCleaning.VocabularySize * embedding) + (4.0 * hidden * (embedding + hidden + 2)) + ((hidden + 1.0) * MaxClasses)),
        ];
        return weights.Where(w => w.Values > Array.MaxLength).Select(w => TooLarge(w.What, w.Values, Array.MaxLength, "--hidden or --embedding")).FirstOrDefault();
    }

    // Refuses, before anything is allocated, a batch whose largest tensors hold more values than a tensor's int length
    // can count: the LSTM's gates for every step of a batch, [T·B, 4H], and the embedded batch, [T·B, E]. The batch is
    // at most the posts there are, so this depends on the corpus and is checked once it is read (exit code 1). Whether
    // the memory is there is RunMemory's estimate, and past it Program's OutOfMemoryException.
    private static void CheckSizes(ClassifierOptions options, int batch)
    {
        double rows = (double)options.MaxChars * batch;
        (string What, double Values)[] tensors =
        [
            ($"The LSTM's gates for a batch of {batch} posts of {options.MaxChars} characters with --hidden {options.Hidden}", rows * 4.0 * options.Hidden),
            ($"A batch of {batch} posts of {options.MaxChars} characters embedded with --embedding {options.Embedding}", rows * options.Embedding),
        ];
        foreach (var (what, values) in tensors)
        {
            if (values > int.MaxValue)
            {
                throw new ArgumentException(TooLarge(what, values, int.MaxValue, "--batch, --hidden, --embedding or --max-chars"));
            }
        }
    }

    private static string TooLarge(string what, double values, long limit, string options) => string.Create(CultureInfo.InvariantCulture,
        $"{what} are {values:N0} values; one tensor holds at most {limit:N0}. Use a smaller {options}.");

    // Each post as a window of character ids (see PostCleaning.Encode) with its group as the class. The size is computed
    // in 64 bits: more ids than one array holds is out of memory, as the runtime reports an array it cannot allocate,
    // never a wrapped int.
    private static SequenceClassificationBatchSource Examples(IReadOnlyList<CleanedPost> posts, int steps)
    {
        long length = (long)posts.Count * steps;
        if (length > Array.MaxLength)
        {
            throw new OutOfMemoryException($"{posts.Count} posts of {steps} characters are {length} ids; one array holds at most {Array.MaxLength}.");
        }

        var windows = new int[length];
        var labels = new int[posts.Count];
        for (int i = 0; i < posts.Count; i++)
        {
            PostCleaning.Encode(posts[i].Text, windows.AsSpan(i * steps, steps));
            labels[i] = posts[i].Label;
        }

        return new SequenceClassificationBatchSource(windows, steps, labels);
    }

    // The number of test posts whose highest logit is their group.
    private static int CountCorrect(Module model, Tensorlet.Device device, SequenceClassificationBatchSource test, int batch, int classes)
    {
        // Buffers for at most the test posts there are: test.Count × steps ids already fit one array.
        batch = Math.Min(batch, test.Count);
        int steps = test.InputsPerExample;
        var examples = new int[batch];
        var inputs = new int[batch * steps];
        var unused = new int[batch];
        var predicted = new int[batch];
        int correct = 0;

        // Evaluation for every module while scoring, then each module's own mode back, as the Trainer's validation does.
        var modes = new ModuleModes(model);
        modes.Eval();
        try
        {
            for (int from = 0; from < test.Count; from += batch)
            {
                int n = Math.Min(batch, test.Count - from);
                for (int i = 0; i < n; i++)
                {
                    examples[i] = from + i;
                }

                test.Fill(examples.AsSpan(0, n), inputs.AsSpan(0, n * steps), unused.AsSpan(0, n), unused.AsSpan(0, n));
                using var ids = device.IndexFromArray(inputs.AsSpan(0, n * steps), steps, n);
                using var best = device.IndexZeros(n);
                Ops.ArgmaxRows(model.Forward(ids).Reshape(n, classes), best);
                best.CopyTo(predicted.AsSpan(0, n));
                for (int i = 0; i < n; i++)
                {
                    correct += predicted[i] == test.Label(from + i) ? 1 : 0;
                }
            }
        }
        finally
        {
            modes.Restore();
        }

        return correct;
    }
}
