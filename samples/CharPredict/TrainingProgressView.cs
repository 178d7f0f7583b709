using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// Shows one model's training progress by observing <see cref="Trainer.BatchCompleted"/>; it runs nothing itself. On a
/// terminal, a Spectre progress bar per epoch with the running loss, characters per second and the ETA; otherwise a
/// plain line at every tenth of an epoch. Dispose it when training returns, to close the live display.
/// </summary>
internal sealed class TrainingProgressView : IDisposable
{
    private const string LossKey = "loss";
    private const string SpeedKey = "speed";

    private readonly AppConsole console;
    private readonly string model;
    private readonly ProgressContext? live;
    private readonly Task? display;
    private readonly TaskCompletionSource finished = new();
    private ProgressTask? task;
    private int epoch = -1;
    private int firstBatch;
    private int lastTenth = -1;

    private TrainingProgressView(AppConsole console, string model)
    {
        this.console = console;
        this.model = model;
        if (!console.Interactive)
        {
            return;
        }

        // The live display runs on its own task until Dispose; batches update it from the training thread
        // (ProgressTask is thread-safe).
        var ready = new TaskCompletionSource<ProgressContext>();
        display = console.Spectre.Progress()
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
            .StartAsync(async context =>
            {
                ready.SetResult(context);
                await finished.Task.ConfigureAwait(false);
            });
        Task.WaitAny(ready.Task, display);
        if (display.IsFaulted)
        {
            display.GetAwaiter().GetResult();
        }

        live = ready.Task.Result;
    }

    /// <summary>Starts showing the progress of <paramref name="trainer"/>, training the model named <paramref name="model"/>.</summary>
    public static TrainingProgressView Observe(AppConsole console, string model, Trainer trainer)
    {
        var view = new TrainingProgressView(console, model);
        trainer.BatchCompleted += view.Report;
        return view;
    }

    /// <summary>Closes the live display (a plain view has nothing to close).</summary>
    public void Dispose()
    {
        task?.StopTask();
        finished.TrySetResult();
        display?.GetAwaiter().GetResult();
    }

    private void Report(BatchProgress p)
    {
        if (live is null)
        {
            ReportLine(p);
            return;
        }

        if (p.Epoch != epoch || task is null)
        {
            task?.StopTask();
            epoch = p.Epoch;
            task = live.AddTask($"{model} epoch {p.Epoch}", maxValue: p.BatchesInEpoch);
        }

        task.Value = p.Batch;
        task.State.Update<double>(LossKey, _ => p.RunningLoss);
        task.State.Update<double>(SpeedKey, _ => p.TargetsPerSecond);
        if (p.Batch == p.BatchesInEpoch)
        {
            task.StopTask();
        }
    }

    // A plain line at every tenth of an epoch.
    private void ReportLine(BatchProgress p)
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
            $"  {model} epoch {p.Epoch} batch {p.Batch}/{p.BatchesInEpoch}  loss {p.RunningLoss:F4}  {p.TargetsPerSecond:N0} chars/s  ETA {eta:hh\\:mm\\:ss}"));
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
