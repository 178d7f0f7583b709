using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// <c>compare</c>: the notebook's closing experiment. Both models of a run continue the same start text at each
/// temperature, side by side, each headed by its validation bits per character.
/// </summary>
internal sealed class CompareCommand
{
    private readonly AppConsole console;
    private readonly Option<string> runFolder = new("--run") { HelpName = "DIR", Description = "A run folder written by 'train'", Required = true };
    private readonly Option<string> start = new("--start") { Description = "The text both models continue", DefaultValueFactory = _ => "the " };
    private readonly Option<string> temperatures = new("--temperatures") { Description = "Comma-separated temperatures", DefaultValueFactory = _ => "0.1,0.5,1.0" };
    private readonly Option<int> length = OptionParsing.Number("--length", "New characters per generation", 200, NumberRange<int>.Positive(Limits.MaxGeneratedLength));
    private readonly Option<int> seed = CommonOptions.Seed();
    private readonly Option<string> device = CommonOptions.Device();

    public CompareCommand(AppConsole console)
    {
        this.console = console;
        temperatures.Validators.Add(r =>
        {
            if (ParseTemperatures(r.GetValueOrDefault<string>()) is null)
            {
                r.AddError($"--temperatures must be positive numbers separated by commas, e.g. 0.1,0.5,1.0; got '{r.GetValueOrDefault<string>()}'.");
            }
        });
        Command = new Command("compare", "Generate with both models of a run at several temperatures, side by side") { runFolder, start, temperatures, length, seed, device };
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private static float[]? ParseTemperatures(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var values = new List<float>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float t) || !(t > 0) || float.IsInfinity(t))
            {
                return null;
            }

            values.Add(t);
        }

        return [.. values];
    }

    private int Execute(ParseResult result)
    {
        var run = new RunFolder(result.GetValue(runFolder)!);
        if (!Directory.Exists(run.Path))
        {
            throw new IOException($"The run folder {run.Path} does not exist.");
        }

        var kinds = new[] { ModelKind.Ngram, ModelKind.Lstm, ModelKind.Gru, ModelKind.Rnn }.Where(k => File.Exists(run.Checkpoint(k))).ToArray();
        if (kinds.Length == 0)
        {
            throw new IOException($"{run.Path} holds no checkpoint (ngram.safetensors, lstm.safetensors, gru.safetensors or rnn.safetensors).");
        }

        var metrics = MetricsRow.ReadAll(run.Metrics);
        var trained = File.Exists(run.Config) ? RunConfig.Read(run.Config).Settings : null;
        bool onText = trained?.Text is not null;
        var text = result.GetValue(start)!;
        if (trained is { Text: not null, Lowercase: true })
        {
            text = CommonOptions.ToLower(text);
        }

        var temps = ParseTemperatures(result.GetValue(temperatures))!;
        using var dev = Device.Create(result.GetValue(device)!);
        var models = new List<LoadedModel>();
        try
        {
            foreach (var kind in kinds)
            {
                models.Add(LoadedModel.Load(run.Checkpoint(kind), dev, kind));
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumn(new TableColumn("temperature").RightAligned());
            foreach (var model in models)
            {
                table.AddColumn(new TableColumn(new Text(Heading(model, metrics, onText))));
            }

            foreach (var t in temps)
            {
                var cells = new List<Spectre.Console.Rendering.IRenderable> { new Text(t.ToString("0.###", CultureInfo.InvariantCulture)) };
                foreach (var model in models)
                {
                    cells.Add(new Text(text + model.Generate(text, result.GetValue(length), t, result.GetValue(seed))));
                }

                table.AddRow(cells);
            }

            console.Spectre.Write(table);
        }
        finally
        {
            foreach (var model in models)
            {
                model.Dispose();
            }
        }

        return 0;
    }

    // "LSTM, epoch 8: 2.042 bits/char on validation (common positions: 2.042)", from the model's last metrics row. On
    // a text, each model is scored on every character it predicts of the held-out end, so there are no common positions.
    private static string Heading(LoadedModel model, IReadOnlyList<MetricsRow> metrics, bool onText)
    {
        var kind = model.Kind;
        string name = RunFolder.NameOf(kind);
        string title = RunFolder.TitleOf(kind);
        var last = metrics.Where(r => r.Model == name).MaxBy(r => r.Epoch);
        if (last is null)
        {
            return $"{title} (no validation score in metrics.csv)";
        }

        string score = string.Create(CultureInfo.InvariantCulture, $"{title}, epoch {last.Epoch}: {last.ValBpc:F3} bits/char on ");
        if (onText)
        {
            return score + "the held-out text";
        }

        return kind == ModelKind.Ngram
            ? string.Create(CultureInfo.InvariantCulture, $"{score}validation (positions {model.Ngrams!.NgramOrder}..99)")
            : string.Create(CultureInfo.InvariantCulture, $"{score}validation (common positions: {last.ValLossCommon / Math.Log(2):F3})");
    }
}
