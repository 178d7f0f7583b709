using System.Runtime.InteropServices;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The char-prediction app's entry point: wires Ctrl+C (and, for training, SIGTERM) to a clean stop, then runs
/// <see cref="CharPredictApp"/>.
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        PosixSignalRegistration? terminate = null;

        // Training has something to save and sampling a line to finish; other commands keep Ctrl+C's default (end at once).
        if (args is ["train", ..] or ["sample", ..])
        {
            bool training = args[0] == "train";

            // The first signal asks the command to stop cleanly (training: after the current batch, and save) and returns
            // true: the process goes on. A second one returns false, to end the process, but not in the middle of a
            // checkpoint save (which would waste it: saves are atomic).
            bool FirstStop(string again)
            {
                if (!stop.IsCancellationRequested)
                {
                    if (training)
                    {
                        Console.Error.WriteLine($"Stopping after the current batch ({again} to abort without saving)...");
                    }

                    stop.Cancel();
                    return true;
                }

                ModelCheckpoint.WaitForSaves();
                return false;
            }

            Console.CancelKeyPress += (_, e) => e.Cancel = FirstStop("Ctrl+C again");

            // SIGTERM (timeout, docker stop, kill) stops training as the first Ctrl+C does, instead of ending the process
            // with the batches since the last checkpoint unsaved.
            if (training)
            {
                terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = FirstStop("Ctrl+C or SIGTERM again"));
            }
        }

        using (terminate)
        {
            return CharPredictApp.Run(args, Console.Out, Console.Error, stop.Token);
        }
    }
}
