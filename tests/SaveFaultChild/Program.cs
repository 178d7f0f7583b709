using System.Globalization;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.SaveFaultChild;

/// <summary>
/// Runs CharPredict (its own entry point, Ctrl+C handling included) with every save step announced on standard error
/// as <c>tensorlet-save-step: STEP FILE</c>, each followed by a pause, so that a test can kill the process at that step.
/// </summary>
public static class Program
{
    /// <summary>The prefix of the announcement lines.</summary>
    public const string Prefix = "tensorlet-save-step: ";

    /// <summary>Usage: <c>Tensorlet.SaveFaultChild PAUSE_MS CHARPREDICT_ARGS...</c>.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pause))
        {
            Console.Error.WriteLine("usage: Tensorlet.SaveFaultChild PAUSE_MS CHARPREDICT_ARGS...");
            return 2;
        }

        SaveStep.Observer = (step, path) =>
        {
            Console.Error.WriteLine($"{Prefix}{step} {Path.GetFileName(path)}");
            Console.Error.Flush();
            Thread.Sleep(pause);
        };
        return Samples.CharPredict.Program.Main(args[1..]);
    }
}
