using System.CommandLine;
using System.Globalization;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>eval</c>: the loss of a text under a model, in nats and bits per character.</summary>
internal sealed class EvalCommand
{
    private readonly AppConsole console;
    private readonly Option<string> checkpoint = new("--checkpoint") { HelpName = "FILE", Description = "A model file (lstm.safetensors or ngram.safetensors)", Required = true };
    private readonly Option<string> text = new("--text") { Description = "The text to score", Required = true };
    private readonly Option<bool> perChar = new("--per-char") { Description = "Print each character's log-probability" };
    private readonly Option<string> device = CommonOptions.Device();

    public EvalCommand(AppConsole console)
    {
        this.console = console;
        Command = new Command("eval", "Score a text under a trained model") { checkpoint, text, perChar, device };
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private int Execute(ParseResult result)
    {
        using var dev = Device.Create(result.GetValue(device)!);
        using var model = LoadedModel.Load(result.GetValue(checkpoint)!, dev);
        var input = result.GetValue(text)!;
        var (positions, logProbabilities, skipped) = model.Score(input);

        // Positions count characters (an emoji is one), as the model does.
        var characters = input.EnumerateRunes().ToArray();
        var output = console.Output;
        if (result.GetValue(perChar))
        {
            output.WriteLine("position\tchar\tlog_prob_nats");
            for (int i = 0; i < positions.Length; i++)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{positions[i]}\t'{characters[positions[i]]}'\t{logProbabilities[i]:F6}"));
            }
        }

        double loss = -logProbabilities.Average();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"characters scored: {positions.Length} of {characters.Length}"));
        if (skipped > 0)
        {
            output.WriteLine($"skipped: {skipped} characters whose n-gram never appears in the corpus");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss: {loss:F6} nats per character"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bits per character: {loss / Math.Log(2):F6}"));
        return 0;
    }
}
