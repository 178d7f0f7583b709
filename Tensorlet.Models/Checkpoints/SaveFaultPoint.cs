using System.Globalization;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Test-only hook for the save fault test (Tensorlet.Tests/App/SaveFaultTests.cs). When the environment
/// variable <c>TENSORLET_TEST_SAVE_PAUSE_MS</c> holds a non-negative number N, every atomic write announces
/// each of its steps on standard error as a line <c>tensorlet-save-step: STEP FILE</c> and then pauses N ms,
/// so the test can kill the process at a known step. Unset (always, outside that test) it does nothing.
/// </summary>
internal static class SaveFaultPoint
{
    /// <summary>The environment variable that turns the hook on.</summary>
    public const string Variable = "TENSORLET_TEST_SAVE_PAUSE_MS";

    /// <summary>The prefix of the announcement lines.</summary>
    public const string Prefix = "tensorlet-save-step: ";

    private static readonly int? PauseMilliseconds =
        int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) ? ms : null;

    /// <summary>Announces <paramref name="step"/> of the write of <paramref name="path"/> and pauses, when the hook is on.</summary>
    public static void Reached(string step, string path)
    {
        if (PauseMilliseconds is not { } pause)
        {
            return;
        }

        Console.Error.WriteLine($"{Prefix}{step} {System.IO.Path.GetFileName(path)}");
        Console.Error.Flush();
        Thread.Sleep(pause);
    }
}
