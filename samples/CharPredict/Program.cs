using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>The char-prediction app's entry point: wires Ctrl+C to a clean stop, then runs <see cref="CharPredictApp"/>.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        using var stop = new CancellationTokenSource();

        // Training has something to save and sampling a line to finish; other commands keep Ctrl+C's default (end at once).
        if (args is ["train", ..] or ["sample", ..])
        {
            bool training = args[0] == "train";
            Console.CancelKeyPress += (_, e) =>
            {
                // The first Ctrl+C asks the command to stop cleanly (training: after the current batch, and save); a second one
                // ends the process, but not in the middle of a checkpoint save (which would waste it: saves are atomic).
                if (!stop.IsCancellationRequested)
                {
                    e.Cancel = true;
                    if (training)
                    {
                        Console.Error.WriteLine("Stopping after the current batch (Ctrl+C again to abort without saving)...");
                    }

                    stop.Cancel();
                    return;
                }

                // Leaving e.Cancel false ends the process once this handler returns.
                ModelCheckpoint.WaitForSaves();
            };
        }

        return CharPredictApp.Run(args, Console.Out, Console.Error, stop.Token);
    }
}
