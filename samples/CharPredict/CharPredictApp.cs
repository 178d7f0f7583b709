using System.CommandLine;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The char-prediction app: <c>train</c>, <c>sample</c>, <c>compare</c>, <c>eval</c>, <c>data</c> and <c>export</c>, callable
/// in-process. Bad input (an unknown device, missing or corrupt data, a wrong checkpoint, characters outside the
/// vocabulary, a bad size or flag) gives one line on standard error and a non-zero exit code, never a stack trace.
/// </summary>
public static class CharPredictApp
{
    /// <summary>Exit code of a run that succeeded.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a command that failed on bad input or data (one "error: ..." line on standard error).</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a command line that does not parse (unknown flag, bad value).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a training run stopped by Ctrl+C or SIGTERM after saving its checkpoint, or of a sample stopped by Ctrl+C.</summary>
    public const int Stopped = TrainingRunner.StoppedExitCode;

    /// <summary>Runs the app on <paramref name="args"/> and returns the exit code.</summary>
    /// <param name="args">The command line, e.g. <c>["train", "--model", "lstm"]</c>.</param>
    /// <param name="stdout">Standard output. Progress bars are drawn only when this is the console and it is a terminal.</param>
    /// <param name="stderr">Standard error.</param>
    /// <param name="cancellation">Stops training cleanly after the current batch, or sampling after the current character (Ctrl+C).</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        bool interactive = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var console = new AppConsole(stdout, stderr, interactive);
        var root = new RootCommand("Tensorlet's char-prediction app: an n-gram MLP and an LSTM learn to write like 20 Newsgroups posts.")
        {
            new TrainCommand(console, cancellation).Command,
            new SampleCommand(console, cancellation).Command,
            new CompareCommand(console).Command,
            new EvalCommand(console).Command,
            new DataCommand(console).Command,
            new ExportCommand(console).Command,
        };

        // No response files: "@FILE" is an option's value (sample --start @FILE), not a file of arguments.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {UsageMessage(root, parsed)} (see --help)");
            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {OptionParsing.ErrorLine(e)}");
            return Failure;
        }
    }

    // The parse error on one line; a word where a command belongs is named as an unknown command.
    private static string UsageMessage(RootCommand root, ParseResult parsed)
    {
        if (parsed.CommandResult.Command == root && parsed.UnmatchedTokens is [var first, ..] && !first.StartsWith('-'))
        {
            return $"unknown command '{first}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))}.";
        }

        return OptionParsing.ErrorLine(parsed);
    }

    // The exceptions that report bad input or data rather than a bug in Tensorlet.
    private static bool IsUserError(Exception e) => e is DeviceNotAvailableException or CorpusException or InvalidTextException or CheckpointException
        or ArgumentException or NonFiniteLossException or IOException or UnauthorizedAccessException or FormatException
        or System.Text.Json.JsonException;
}
