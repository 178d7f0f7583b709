using System.Globalization;

namespace Tensorlet.Models.Training;

/// <summary>How a <see cref="Trainer"/> runs; the trainer checks the values when it is created.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (counted from the start, so a resumed run stops at the same epoch).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per batch; the notebook uses 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Seeds the per-epoch shuffle, and the dropout masks of a module that is not a char model (those use their own <c>DropoutSeed</c>).</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Skip an epoch's last batch when it is smaller than <see cref="BatchSize"/>, as PyTorch's DataLoader
    /// <c>drop_last</c>: a model with a <see cref="Nn.BatchNorm1d"/> cannot train on a last batch of one example (its
    /// variance needs two). The examples skipped change from epoch to epoch with the shuffle. Validation is not
    /// affected. False by default: every example is trained on in every epoch.
    /// </summary>
    public bool DropLast { get; init; }

    /// <summary>Stop each epoch after this many batches (for short runs); null for whole epochs.</summary>
    public int? MaxBatchesPerEpoch { get; init; }

    /// <summary>Clip the global gradient norm to this value; null for no clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Validation examples scored after each epoch; null for all, 0 for none (as with no validation set).</summary>
    public int? MaxValidationExamples { get; init; }

    /// <summary>Step the learning-rate schedule after every batch (e.g. warm-up and cosine) instead of after every epoch.</summary>
    public bool ScheduleEveryBatch { get; init; }

    /// <summary>
    /// Throws for a value no run can use: a batch size or a batch limit below 1, negative epochs or validation examples, a
    /// clipping norm that is negative or NaN. Checked up front, where a zero batch size would otherwise divide by zero
    /// and a bad norm surface only after the first batch's forward and backward passes.
    /// </summary>
    internal void Validate()
    {
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        Check(Epochs >= 0, nameof(Epochs), Epochs, "at least 0");
        Check(MaxBatchesPerEpoch is null or >= 1, nameof(MaxBatchesPerEpoch), MaxBatchesPerEpoch, "null or at least 1");
        Check(MaxValidationExamples is null or >= 0, nameof(MaxValidationExamples), MaxValidationExamples, "null or at least 0");
        Check(GradientClipNorm is null || GradientClipNorm >= 0, nameof(GradientClipNorm), GradientClipNorm, "null or at least 0");
    }

    private static void Check(bool valid, string name, object? value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture, $"TrainerOptions.{name} must be {range}; got {value}."));
        }
    }
}
