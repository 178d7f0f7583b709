using System.CommandLine;
using System.Globalization;
using Tensorlet.Models.Data;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// <c>eval</c>: the loss of a text under a model, in nats and bits per character. The text is given on the command line
/// (<c>--text</c>) or read from a file or a folder of <c>*.txt</c> files (<c>--file</c>: a held-out test text, say,
/// read as <c>train --text</c> reads its text), and scored as one sequence.
/// </summary>
internal sealed class EvalCommand
{
    private readonly AppConsole console;
    private readonly Option<string> checkpoint = CommonOptions.Checkpoint();
    private readonly Option<string> text = new("--text") { Description = "The text to score, as given" };
    private readonly Option<string> file = new("--file") { HelpName = "PATH", Description = "Score a UTF-8 file, or a folder's *.txt files, instead" };
    private readonly Option<bool> perChar = new("--per-char") { Description = "Print each character's log-probability" };
    private readonly Option<bool> lowercase = CommonOptions.Lowercase();
    private readonly Option<string> device = CommonOptions.Device();

    public EvalCommand(AppConsole console)
    {
        this.console = console;
        Command = new Command("eval", "Score a text under a trained model") { checkpoint, text, file, perChar, lowercase, device };
        Command.Validators.Add(r =>
        {
            if ((r.GetResult(text) is null) == (r.GetResult(file) is null))
            {
                r.AddError("Give the text to score with --text TEXT or --file PATH (one of them).");
            }
        });
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private int Execute(ParseResult result)
    {
        using var dev = Device.Create(result.GetValue(device)!);
        using var model = LoadedModel.Load(result.GetValue(checkpoint)!, dev);
        bool lower = CommonOptions.LowercaseFor(result.GetValue(checkpoint)!, result.GetValue(lowercase));
        var input = result.GetValue(text) is { } given ? (lower ? CommonOptions.ToLower(given) : given) : ReadFile(result.GetValue(file)!, lower);
        var (positions, logProbabilities, skipped) = model.Score(input);

        // Positions count characters (an emoji is one), as the model does.
        var characters = input.EnumerateRunes().ToArray();
        var output = console.Output;
        if (result.GetValue(perChar))
        {
            // A newline, tab or other unprintable character is shown as U+000A, so that each row stays one line.
            output.WriteLine("position\tchar\tlog_prob_nats");
            for (int i = 0; i < positions.Length; i++)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{positions[i]}\t{CharVocabulary.Quote(characters[positions[i]])}\t{logProbabilities[i]:F6}"));
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

    // The whole text of a file or folder, as train --text reads it (strict UTF-8, a leading byte-order mark dropped).
    private static string ReadFile(string path, bool lowercase)
    {
        var corpus = TextCorpus.Load(path, lowercase);
        if (corpus.Length > Limits.MaxEvalCharacters)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"{path} holds {corpus.Length:N0} characters; eval scores at most {Limits.MaxEvalCharacters:N0} at once. Score it in parts."));
        }

        return corpus.Vocabulary.Decode(corpus.Ids.ToArray());
    }
}
