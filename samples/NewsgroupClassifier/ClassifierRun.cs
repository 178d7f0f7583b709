using System.Diagnostics;
using System.Globalization;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>The run's settings, from the command line.</summary>
/// <param name="Model">lstm or cnn (<see cref="ClassifierModels"/>); <paramref name="Hidden"/> sizes the first, <paramref name="Channels"/> the second.</param>
internal sealed record ClassifierOptions(string Device, string Model, int Epochs, int MaxChars, int Embedding, int Hidden, int Channels, int Batch, float LearningRate, int Seed)
{
    /// <summary>The model's width: --hidden for the LSTM, --channels for the CNN (<see cref="ClassifierModels.WidthOption"/>).</summary>
    public int Width => Model == ClassifierModels.Lstm ? Hidden : Channels;
}

/// <summary>Builds the model from library modules, trains it on the train split and measures accuracy on the test split after every epoch.</summary>
internal static class ClassifierRun
{
    /// <summary>Trains and prints one line per epoch: train loss, test accuracy, time.</summary>
    public static void Train(CleanedCorpus corpus, ClassifierOptions options, Tensorlet.Device device, TextWriter output)
    {
        // A batch larger than the posts is all of them (the same single batch per epoch): the buffers and the model's
        // activations are sized for the posts there are.
        int trainBatch = Math.Max(1, Math.Min(options.Batch, corpus.Train.Count));
        int batch = Math.Max(trainBatch, Math.Min(options.Batch, corpus.Test.Count));
        int classes = corpus.Groups.Count;
        ClassifierModels.CheckBatch(options, batch);
        RunMemory.Check(options, corpus.Train.Count + corpus.Test.Count, batch, classes, device);
        var train = Examples(corpus.Train, options.MaxChars);
        var test = Examples(corpus.Test, options.MaxChars);

        var (created, description) = ClassifierModels.Create(options, classes);
        using var model = created;
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
            $"{device.Description}: {description}; {options.MaxChars} characters per post, batch {options.Batch}, Adam lr {options.LearningRate}."));
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
