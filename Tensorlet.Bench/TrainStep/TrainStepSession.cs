using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// One model and its Adam optimizer (lr 2e-3, the notebook's), stepped by <see cref="TrainingStep{TInput, TTarget}"/>, the step
/// <see cref="Trainer"/> runs for every batch, on the batches of one shuffled epoch, round and round.
/// </summary>
internal sealed class TrainStepSession : IDisposable
{
    /// <summary>The notebook's learning rate.</summary>
    public const float LearningRate = 2e-3f;

    private readonly CrossEntropyLoss loss = new();
    private readonly TrainingStep<int, int>? charStep;
    private readonly TrainingStep<float, int>? imageStep;
    private readonly int[] order;
    private long step;

    /// <summary>Builds the model (lstm, ngram or cnn) on <paramref name="device"/> for <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is not from 1 to the data's examples.</exception>
    public TrainStepSession(Device device, TrainStepData data, string model, string cell, int hidden, int layers, int n, float dropout, int batch, int seed)
    {
        // Every batch is a slice of one epoch's order: a larger one has no slice, and the step would divide by zero.
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, data.Count);
        Device = device;
        Data = data;
        Batch = batch;

        // A char model's spec checks the sizes (at most 2^28 parameters) before anything is allocated: one line, not an
        // overflow. The CNN's sizes are fixed.
        Model = (model, cell) switch
        {
            ("cnn", _) => TrainStepCnn.Create().Build(device, seed),
            ("lstm", "gru") => (Module)CharModelSpec.Gru(data.ClassCount, hidden, layers, dropout).Create(device, seed),
            ("lstm", "rnn") => (Module)CharModelSpec.Rnn(data.ClassCount, hidden, layers, dropout).Create(device, seed),
            ("lstm", _) => (Module)CharModelSpec.Lstm(data.ClassCount, hidden, layers, dropout).Create(device, seed),
            _ => (Module)CharModelSpec.Ngram(n, data.NgramCount, data.ClassCount, hidden, Activation.Relu).Create(device, seed),
        };
        Optimizer = new Adam(Model.Parameters, LearningRate);
        if (data.Images is { } images)
        {
            imageStep = new TrainingStep<float, int>(Model, loss, Optimizer, images, batch, gradientClipNorm: null, seed);
        }
        else
        {
            charStep = new TrainingStep<int, int>(Model, loss, Optimizer, data.Source!, batch, gradientClipNorm: null, seed);
        }

        order = Trainer.EpochOrder(data.Count, seed, 0);
    }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>The examples.</summary>
    public TrainStepData Data { get; }

    /// <summary>Examples per batch.</summary>
    public int Batch { get; }

    /// <summary>The model, in training mode (the CNN's batch norms normalize by the batch's statistics).</summary>
    public Module Model { get; }

    /// <summary>The optimizer.</summary>
    public Adam Optimizer { get; }

    /// <summary>Loss rows per batch: B·99 predicted characters for the LSTM, B for the n-gram model and the CNN.</summary>
    public int RowsPerBatch => Batch * Data.RowsPerExample;

    /// <summary>Runs one training step on the next batch of the shuffled order and returns its mean loss.</summary>
    public double Step()
    {
        int batchesInOrder = order.Length / Batch;
        int from = (int)(step % batchesInOrder) * Batch;
        step++;
        var examples = order.AsSpan(from, Batch);
        return charStep?.Run(examples, step) ?? imageStep!.Run(examples, step);
    }

    /// <summary>Frees the model, optimizer and buffers (not the device).</summary>
    public void Dispose()
    {
        charStep?.Dispose();
        imageStep?.Dispose();
        loss.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
