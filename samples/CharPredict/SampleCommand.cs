using System.CommandLine;
using Tensorlet.Models.Data;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// <c>sample</c>: generates text from a checkpoint of either model, writing each character as it is made; Ctrl+C stops
/// cleanly after the current character (exit 130). --length is bounded by <see cref="Limits.MaxGeneratedLength"/>.
/// </summary>
internal sealed class SampleCommand
{
    private readonly AppConsole console;
    private readonly CancellationToken cancellation;
    private readonly Option<string> checkpoint = CommonOptions.Checkpoint();
    private readonly Option<string> start = new("--start") { Description = "The text to continue; @FILE reads it from a UTF-8 file (@@ starts a text with @)", DefaultValueFactory = _ => "the " };
    private readonly Option<int> length = OptionParsing.Number("--length", "New characters to generate", 200, NumberRange<int>.Positive(Limits.MaxGeneratedLength));
    private readonly Option<float> temperature = OptionParsing.Number("--temperature", "Softmax temperature; lower is greedier; 0 takes the most likely character", 0.5f, NumberRange<float>.NonNegative());
    private readonly Option<int> topK = OptionParsing.Number("--top-k", "Draw only among the K most likely characters (0: all)", 0, NumberRange<int>.NonNegative());
    private readonly Option<int> seed = CommonOptions.Seed();
    private readonly Option<bool> lowercase = CommonOptions.Lowercase();
    private readonly Option<string> device = CommonOptions.Device();

    public SampleCommand(AppConsole console, CancellationToken cancellation)
    {
        this.console = console;
        this.cancellation = cancellation;
        Command = new Command("sample", "Generate text from a trained model") { checkpoint, start, length, temperature, topK, seed, lowercase, device };
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private int Execute(ParseResult result)
    {
        using var dev = Device.Create(result.GetValue(device)!);
        using var model = LoadedModel.Load(result.GetValue(checkpoint)!, dev);
        var text = StartText(result.GetValue(start)!);
        if (CommonOptions.LowercaseFor(result.GetValue(checkpoint)!, result.GetValue(lowercase)))
        {
            text = CommonOptions.ToLower(text);
        }


        // Each character is written as it is made; Ctrl+C ends the line and stops.
        using var characters = model.Stream(text, result.GetValue(temperature), result.GetValue(seed), result.GetValue(topK)).Take(result.GetValue(length)).GetEnumerator();
        console.Output.Write(text);
        bool stopped = false;
        while (!(stopped = cancellation.IsCancellationRequested) && characters.MoveNext())
        {
            console.Output.Write(characters.Current);
            console.Output.Flush();
        }

        console.Output.WriteLine();
        return stopped ? CharPredictApp.Stopped : CharPredictApp.Success;
    }

    // "@FILE" reads the start text from a UTF-8 file (nanoGPT's FILE:); "@@..." is a literal text starting with "@".
    private static string StartText(string option)
    {
        if (!option.StartsWith('@') || option.StartsWith("@@", StringComparison.Ordinal))
        {
            return option.StartsWith("@@", StringComparison.Ordinal) ? option[1..] : option;
        }

        string path = option[1..];
        try
        {
            return Utf8Text.ReadFile(path, Limits.MaxStartLength);
        }
        catch (Exception ex) when (ex is CorpusException or InvalidTextException)
        {
            // The message names the file and what is wrong with it, as --text's does.
            throw new ArgumentException($"--start {option}: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--start {option}: cannot read {path}: {ex.Message}");
        }
    }
}
