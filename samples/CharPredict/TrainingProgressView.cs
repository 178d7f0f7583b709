using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// Shows training progress: on a terminal, a Spectre progress bar per epoch with the running loss, characters
/// per second and the ETA; otherwise a plain line at every tenth of an epoch.
/// </summary>
internal static class TrainingProgressView
{
    private const string LossKey = "loss";
    private const string SpeedKey = "speed";

    /// <summary>Runs <paramref name="body"/>, giving it the callback to report each batch to.</summary>
    public static void Run(AppConsole console, string model, Action<Action<BatchProgress>> body)
    {
        if (!console.Interactive)
        {
            int epoch = -1;
            int firstBatch = 0;
            int lastTenth = -1;
            body(p =>
            {
                if (p.Epoch != epoch)
                {
                    (epoch, firstBatch, lastTenth) = (p.Epoch, p.Batch - 1, -1);
                }

                int tenth = p.Batch * 10 / p.BatchesInEpoch;
                if (tenth == lastTenth)
                {
                    return;
                }

                lastTenth = tenth;
                double perBatch = p.Elapsed.TotalSeconds / Math.Max(1, p.Batch - firstBatch);
                var eta = TimeSpan.FromSeconds(perBatch * (p.BatchesInEpoch - p.Batch));
                console.Line(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {model} epoch {p.Epoch} batch {p.Batch}/{p.BatchesInEpoch}  loss {p.RunningLoss:F4}  {p.CharactersPerSecond:N0} chars/s  ETA {eta:hh\\:mm\\:ss}"));
            });
            return;
        }

        console.Spectre.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new StateColumn(LossKey, v => $"loss {v:F4}"),
                new StateColumn(SpeedKey, v => $"{v:N0} chars/s"),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                int epoch = -1;
                body(p =>
                {
                    if (p.Epoch != epoch || task is null)
                    {
                        task?.StopTask();
                        epoch = p.Epoch;
                        task = context.AddTask($"{model} epoch {p.Epoch}", maxValue: p.BatchesInEpoch);
                    }

                    task.Value = p.Batch;
                    task.State.Update<double>(LossKey, _ => p.RunningLoss);
                    task.State.Update<double>(SpeedKey, _ => p.CharactersPerSecond);
                    if (p.Batch == p.BatchesInEpoch)
                    {
                        task.StopTask();
                    }
                });
                task?.StopTask();
            });
    }

    // A column showing a number kept in the task's state.
    private sealed class StateColumn(string key, Func<double, string> format) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double value = task.State.Get<double>(key);
            return new Text(format(value).ToString(CultureInfo.InvariantCulture));
        }
    }
}
