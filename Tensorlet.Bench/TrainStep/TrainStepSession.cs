using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Optim;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// One model, its Adam optimizer (lr 2e-3, the notebook's) and reused batch buffers, stepped exactly as
/// <see cref="Trainer"/> steps per batch: load the batch's ids, zero the gradients, ForwardLoss, Backward,
/// copy the per-row losses to the host (which waits for the device), Adam.Step.
/// </summary>
internal sealed class TrainStepSession : IDisposable
{
    /// <summary>The notebook's learning rate.</summary>
    public const float LearningRate = 2e-3f;

    private readonly BatchBuffers buffers;
    private readonly int[] order;
    private readonly float[] hostLosses;
    private long step;

    /// <summary>Builds the model on <paramref name="device"/> for <paramref name="data"/>.</summary>
    public TrainStepSession(Device device, TrainStepData data, string model, string cell, int hidden, int layers, float dropout, int batch, int seed)
    {
        Device = device;
        Data = data;
        Batch = batch;
        Model = (model, cell) switch
        {
            ("lstm", "gru") => new GruCharModel(device, data.CharacterCount, hidden, layers, dropout, seed),
            ("lstm", _) => new LstmCharModel(device, data.CharacterCount, hidden, layers, dropout, seed),
            _ => new NgramMlp(device, data.NgramCount, data.CharacterCount, hidden, Activation.Relu, seed),
        };
        Optimizer = new Adam(Model.Parameters, LearningRate);
        buffers = new BatchBuffers(device, data.Source, batch);
        hostLosses = new float[batch * data.Source.RowsPerExample];
        order = Trainer.EpochOrder(data.Source.Count, seed, 0);
    }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>The examples.</summary>
    public TrainStepData Data { get; }

    /// <summary>Examples per batch.</summary>
    public int Batch { get; }

    /// <summary>The model.</summary>
    public ICharModel Model { get; }

    /// <summary>The optimizer.</summary>
    public Adam Optimizer { get; }

    /// <summary>Predicted characters per batch: B·99 for the LSTM, B for the n-gram model.</summary>
    public int RowsPerBatch => Batch * Data.Source.RowsPerExample;

    /// <summary>Runs one training step on the next batch of the shuffled order and returns its mean loss.</summary>
    public double Step()
    {
        int batchesInOrder = order.Length / Batch;
        int from = (int)(step % batchesInOrder) * Batch;
        step++;
        var (inputs, targets) = buffers.Load(order.AsSpan(from, Batch));
        Optimizer.ZeroGradients();
        var losses = Model.ForwardLoss(inputs, targets, Batch, training: true, step: step);
        Model.Backward();
        losses.CopyTo(hostLosses);
        Optimizer.Step();
        double sum = 0;
        foreach (var loss in hostLosses)
        {
            sum += loss;
        }

        return sum / hostLosses.Length;
    }

    /// <summary>Frees the model, optimizer and buffers (not the device).</summary>
    public void Dispose()
    {
        buffers.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
