namespace Tensorlet.Models.Training;

/// <summary>Where training stands; saved with checkpoints so a run resumes exactly.</summary>
/// <param name="Epoch">Completed epochs.</param>
/// <param name="BatchInEpoch">Batches done in the current epoch.</param>
/// <param name="Step">Optimizer steps taken in all.</param>
public sealed record TrainingPosition(int Epoch, int BatchInEpoch, long Step);

/// <summary>
/// Raised after every batch that trained (one whose targets are all ignored takes no step and is not reported). A
/// target is one term the loss averages over: a class id other than the loss's <c>IgnoreIndex</c> for
/// <c>CrossEntropyLoss</c> and <c>NllLoss</c> (a char model's predicted character, a classifier's example), one value
/// for <c>MseLoss</c> (k per example of a target shaped [k]).
/// </summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The batch in the epoch, from 1.</param>
/// <param name="BatchesInEpoch">Batches this epoch will run.</param>
/// <param name="Loss">This batch's mean loss per target, in the loss's units: nats for <c>CrossEntropyLoss</c>, squared target units for <c>MseLoss</c>. It is the loss's value for the default mean reduction, and its value over the batch's targets for <c>Reduction.Sum</c>, so that it compares with <see cref="EvaluationResult.Loss"/>.</param>
/// <param name="RunningLoss">The mean of the batches' <paramref name="Loss"/> so far this epoch, each batch counting once, as the notebook prints it (with a short last batch, not quite the mean over targets); a batch with no targets (every class id ignored) trains nothing, is not reported and counts in no average.</param>
/// <param name="TargetsPerSecond">Targets trained on per second so far this epoch: their count over <paramref name="Elapsed"/>.</param>
/// <param name="Elapsed">Time spent in this epoch.</param>
public sealed record BatchProgress(int Epoch, int Batch, int BatchesInEpoch, double Loss, double RunningLoss, double TargetsPerSecond, TimeSpan Elapsed);

/// <summary>Raised after every epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">The mean of the epoch's batch losses (<see cref="BatchProgress.Loss"/>), each batch with targets counting once, as the notebook prints it; with a short last batch it differs a little from a mean over targets such as <see cref="EvaluationResult.Loss"/>.</param>
/// <param name="Validation">The validation scores, when a validation set was given.</param>
/// <param name="TargetsPerSecond">Targets (as <see cref="BatchProgress"/> counts them) trained on per second: their count over <paramref name="Duration"/>.</param>
/// <param name="Duration">The epoch's training time.</param>
/// <param name="Sample">Generated text, when a sampler was given.</param>
/// <param name="Position">The position to resume from.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, EvaluationResult? Validation, double TargetsPerSecond, TimeSpan Duration, string? Sample, TrainingPosition Position);

/// <summary>How a call to <see cref="Trainer.Train"/> ended.</summary>
/// <param name="Position">Where training stopped.</param>
/// <param name="Cancelled">True when stopped early by cancellation, after a whole batch.</param>
/// <param name="Epochs">The report of every epoch completed in this call.</param>
public sealed record TrainingResult(TrainingPosition Position, bool Cancelled, IReadOnlyList<EpochReport> Epochs);
