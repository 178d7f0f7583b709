namespace Tensorlet.Models.Training;

/// <summary>Thrown when a batch's loss is NaN or infinite. The optimizer step of that batch is not taken, and the model's buffers (running statistics) are put back as they were before it.</summary>
public sealed class NonFiniteLossException(int epoch, int batch, double loss)
    : Exception($"Training stopped: the loss became {loss} at epoch {epoch}, batch {batch}. Try a lower learning rate or gradient clipping; earlier checkpoints are untouched.")
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>The batch in the epoch, from 1.</summary>
    public int Batch { get; } = batch;
}
