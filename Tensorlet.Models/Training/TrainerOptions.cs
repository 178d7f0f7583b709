namespace Tensorlet.Models.Training;

/// <summary>How a <see cref="Trainer"/> runs.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (counted from the start, so a resumed run stops at the same epoch).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per batch; the notebook uses 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Seeds the per-epoch shuffle, and the dropout masks of a module that is not a char model (those use their own <c>DropoutSeed</c>).</summary>
    public int Seed { get; init; }

    /// <summary>Stop each epoch after this many batches (for short runs); null for whole epochs.</summary>
    public int? MaxBatchesPerEpoch { get; init; }

    /// <summary>Clip the global gradient norm to this value; null for no clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Validation examples scored after each epoch; null for all.</summary>
    public int? MaxValidationExamples { get; init; }

    /// <summary>Step the learning-rate schedule after every batch (e.g. warm-up and cosine) instead of after every epoch.</summary>
    public bool ScheduleEveryBatch { get; init; }
}
