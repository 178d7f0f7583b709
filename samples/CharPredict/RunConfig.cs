using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Tensorlet.Models.Data;

namespace Tensorlet.Samples.CharPredict;

/// <summary>config.json: the settings of a run, the data it saw and where it ran.</summary>
/// <param name="Settings">Every setting.</param>
/// <param name="Data">The data summary.</param>
/// <param name="Device">The device's description.</param>
/// <param name="Created">When the run started.</param>
internal sealed record RunConfig(TrainSettings Settings, DataSummary Data, string Device, DateTimeOffset Created)
{
    /// <summary>
    /// Reads config.json and checks it whole: every field that <c>train</c> writes must be there, of its kind, and every
    /// setting within the range its flag accepts (<see cref="SettingRanges"/>), so that a corrupt or hand-edited file is
    /// refused before anything is trained or written.
    /// </summary>
    /// <exception cref="IOException">The file is missing, is not JSON, or is not a valid run configuration (the message
    /// names the first field at fault).</exception>
    public static RunConfig Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new IOException($"{path} does not exist: --resume needs a run folder written by 'train'.");
        }

        RunConfig? config = null;
        string? problem;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            problem = MissingField(document.RootElement);
            if (problem is null)
            {
                config = document.Deserialize<RunConfig>(TrainSettings.Json)!;
                problem = config.Problem();
            }
        }
        catch (JsonException e)
        {
            problem = WrongKind(e) ?? e.Message;
        }

        return problem is null ? config! : throw new IOException($"{path} is not a valid run configuration: {problem}");
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Write(string path)
    {
        var json = JsonSerializer.Serialize(this, TrainSettings.Json);
        Models.Checkpoints.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(json);
        });
    }

    // The JSON sections of config.json and the types they hold: "" for the top level.
    private static readonly (string Name, Type Type)[] Sections = [("", typeof(RunConfig)), ("settings", typeof(TrainSettings)), ("data", typeof(DataSummary))];

    // The fields train writes for the type: its properties, less those marked [JsonIgnore].
    private static IEnumerable<JsonPropertyInfo> FieldsOf(Type type) => TrainSettings.Json.GetTypeInfo(type).Properties
        .Where(p => p.AttributeProvider?.IsDefined(typeof(JsonIgnoreAttribute), inherit: true) != true);

    private static string FieldName(string section, string jsonName) => section.Length == 0 ? jsonName : $"{section}.{jsonName}";

    // The settings that runs written by earlier versions of train lack, and the optimizers each version offered. A run
    // written before train offered a choice of optimizer lacks all five and trained Adam without weight decay; one written
    // before rmsprop lacks alpha and centered, which no optimizer it offered has; one written before --centered lacks
    // centered, and trained uncentered; one written before --amsgrad lacks amsgrad (and whatever the versions before it
    // lack), and trained without. Such a file reads as TrainSettings' initial values for the settings it lacks. A
    // file that lacks another set of them, or lacks alpha and names rmsprop, is a cut or edited file like any other.
    private static readonly (string[] Absent, string[] Optimizers)[] EarlierVersions =
    [
        (["optimizer", "weight_decay", "momentum", "alpha", "centered", "amsgrad"], ["adam"]),
        (["alpha", "centered", "amsgrad"], ["adam", "adamw", "sgd"]),
        (["centered", "amsgrad"], ["adam", "adamw", "sgd", "rmsprop"]),
        (["amsgrad"], ["adam", "adamw", "sgd", "rmsprop"]),
    ];

    // The settings an earlier version of train did not write, when `settings` is such a version's; else none.
    private static string[] WrittenEarlier(JsonElement settings)
    {
        var lacking = EarlierVersions.SelectMany(v => v.Absent).Distinct().Where(name => !settings.TryGetProperty(name, out _)).ToHashSet();
        var version = EarlierVersions.FirstOrDefault(v => lacking.SetEquals(v.Absent));
        if (version.Absent is null)
        {
            return [];
        }

        // An optimizer that version did not offer is not its file; a value train never offers is the range check's.
        bool offered = !settings.TryGetProperty("optimizer", out var optimizer) || optimizer.ValueKind != JsonValueKind.String
            || !TrainSettings.Optimizers.Contains(optimizer.GetString()) || version.Optimizers.Contains(optimizer.GetString());
        return offered ? version.Absent : [];
    }

    // A field that is missing, or a section that is not an object: train writes every field, so a missing one is a
    // file that was cut or edited, not one to fill with a default.
    private static string? MissingField(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"it must be a JSON object; it holds {KindOf(root)}.";
        }

        foreach (var (section, type) in Sections)
        {
            JsonElement element = root;
            if (section.Length > 0 && (!root.TryGetProperty(section, out element) || element.ValueKind != JsonValueKind.Object))
            {
                continue; // the top level's own check names it
            }

            string[] writtenEarlier = section == "settings" ? WrittenEarlier(element) : [];
            foreach (var field in FieldsOf(type))
            {
                if (writtenEarlier.Contains(field.Name))
                {
                    continue;
                }

                if (!element.TryGetProperty(field.Name, out var value))
                {
                    return $"{FieldName(section, field.Name)} is missing.";
                }

                if (section.Length == 0 && Sections.Any(s => s.Name == field.Name) && value.ValueKind != JsonValueKind.Object)
                {
                    return $"{field.Name} must be an object; it holds {KindOf(value)}.";
                }
            }
        }

        return null;
    }

    private static string KindOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        _ => "an object",
    };

    // A value the serializer could not read as its field's type ("batch": "many", "lr_decay": null): named by its path.
    private static string? WrongKind(JsonException e)
    {
        if (e.Path is not { } jsonPath || !jsonPath.StartsWith("$.", StringComparison.Ordinal))
        {
            return null;
        }

        string[] parts = jsonPath[2..].Split('[')[0].Split('.');
        var (section, name) = parts.Length == 1 ? ("", parts[0]) : (parts[0], parts[1]);
        var type = Sections.FirstOrDefault(s => s.Name == section).Type;
        var field = type is null ? null : FieldsOf(type).FirstOrDefault(f => f.Name == name);
        if (field is null)
        {
            return null;
        }

        var propertyType = field.PropertyType;
        var underlying = Nullable.GetUnderlyingType(propertyType);
        string kind = (underlying ?? propertyType) switch
        {
            var t when t == typeof(int) || t == typeof(long) => "a whole number",
            var t when t == typeof(float) || t == typeof(double) => "a number",
            var t when t == typeof(bool) => "true or false",
            var t when t == typeof(string) => "a string",
            var t when t == typeof(DateTimeOffset) => "a date and time",
            var t when t == typeof(Kernels.Activation) => $"one of {string.Join(", ", TrainSettings.Activations)}",
            var t when typeof(IEnumerable<string>).IsAssignableFrom(t) => "a list of strings",
            _ => "an object",
        };
        return $"{FieldName(section, name)} must be {kind}{(field.IsSetNullable ? " or null" : "")}.";
    }

    // The first field out of its range, or null. Each setting has its flag's range and values.
    private string? Problem()
    {
        var s = Settings;
        var d = Data;
        var checks = new Func<string?>[]
        {
            () => OneOf(Setting(nameof(s.Model)), s.Model, TrainSettings.ModelNames),
            () => NotNull(Setting(nameof(s.Device)), s.Device),
            () => InRange(Setting(nameof(s.Threads)), s.Threads, SettingRanges.Threads),
            () => OneOf(Setting(nameof(s.Preset)), s.Preset, TrainSettings.Presets),
            () => InRange(Setting(nameof(s.N)), s.N, SettingRanges.N),
            () => InRange(Setting(nameof(s.NgramHidden)), s.NgramHidden, SettingRanges.HiddenSize),
            () => OneOf(Setting(nameof(s.NgramActivation)), TrainSettings.ActivationName(s.NgramActivation), TrainSettings.Activations),
            () => InRange(Setting(nameof(s.NgramWindows)), s.NgramWindows, SettingRanges.NgramWindows),
            () => InRange(Setting(nameof(s.LstmHidden)), s.LstmHidden, SettingRanges.HiddenSize),
            () => InRange(Setting(nameof(s.LstmLayers)), s.LstmLayers, SettingRanges.Layers),
            () => InRange(Setting(nameof(s.LstmDropout)), s.LstmDropout, SettingRanges.Dropout),
            () => InRange(Setting(nameof(s.Epochs)), s.Epochs, SettingRanges.Epochs),
            () => OneOf(Setting(nameof(s.Optimizer)), s.Optimizer, TrainSettings.Optimizers),
            () => InRange(Setting(nameof(s.LearningRate)), s.LearningRate, SettingRanges.LearningRate),
            () => InRange(Setting(nameof(s.WeightDecay)), s.WeightDecay, SettingRanges.WeightDecay),
            () => InRange(Setting(nameof(s.Momentum)), s.Momentum, SettingRanges.Momentum),
            () => Unused(Setting(nameof(s.Momentum)), s.Momentum, 0f, RunOptimizer.WithMomentum, s.Optimizer, "momentum"),
            () => InRange(Setting(nameof(s.Alpha)), s.Alpha, SettingRanges.Alpha),
            () => Unused(Setting(nameof(s.Alpha)), s.Alpha, TrainSettings.DefaultAlpha, RunOptimizer.WithAlpha, s.Optimizer, "alpha"),
            () => Unused(Setting(nameof(s.Centered)), s.Centered, false, RunOptimizer.WithCentered, s.Optimizer, "centered form"),
            () => Unused(Setting(nameof(s.Amsgrad)), s.Amsgrad, false, RunOptimizer.WithAmsgrad, s.Optimizer, "amsgrad form"),
            () => InRange(Setting(nameof(s.Batch)), s.Batch, SettingRanges.Batch),
            () => InRange(Setting(nameof(s.Seed)), s.Seed, SettingRanges.Seed),
            () => InRange(Setting(nameof(s.ValidationFraction)), s.ValidationFraction, SettingRanges.ValidationFraction),
            () => InRange(Setting(nameof(s.MaxBatches)), s.MaxBatches, SettingRanges.MaxBatches),
            () => InRange(Setting(nameof(s.MaxSequences)), s.MaxSequences, SettingRanges.MaxSequences),
            () => InRange(Setting(nameof(s.ClipNorm)), s.ClipNorm, SettingRanges.ClipNorm),
            () => NotEmpty(Setting(nameof(s.Data)), s.Data),
            () => InRange(Setting(nameof(s.SampleLength)), s.SampleLength, SettingRanges.SampleLength),
            () => InRange(Setting(nameof(s.SampleTemperature)), s.SampleTemperature, SettingRanges.SampleTemperature),
            () => NotEmpty(Setting(nameof(s.Text)), s.Text),
            () => InRange(Setting(nameof(s.SeqLen)), s.SeqLen, SettingRanges.SeqLen),
            () => OneOf(Setting(nameof(s.Cell)), s.Cell, TrainSettings.Cells),
            () => OneOf(Setting(nameof(s.Schedule)), s.Schedule, TrainSettings.Schedules),
            () => InRange(Setting(nameof(s.LrDecay)), s.LrDecay, TrainSettings.DecayingSchedules.Contains(s.Schedule) ? SettingRanges.LrDecay : SettingRanges.UnusedLrDecay),
            () => InRange(Setting(nameof(s.LrDecayAfter)), s.LrDecayAfter, SettingRanges.LrDecayAfter),
            () => InRange(Setting(nameof(s.LrStepSize)), s.LrStepSize, SettingRanges.LrStepSize),
            () => InRange(Setting(nameof(s.WarmupSteps)), s.WarmupSteps, SettingRanges.WarmupSteps),
            () => InRange(Setting(nameof(s.LrPatience)), s.LrPatience, SettingRanges.LrPatience),
            () => InRange(Setting(nameof(s.CheckpointEvery)), s.CheckpointEvery, SettingRanges.CheckpointEvery),
            () => NotEmpty(Setting(nameof(s.InitFrom)), s.InitFrom),
            () => NotNull(DataField(nameof(d.Source)), d.Source),
            () => Count(DataField(nameof(d.TrainDocuments)), d.TrainDocuments),
            () => Count(DataField(nameof(d.TestDocuments)), d.TestDocuments),
            () => Count(DataField(nameof(d.Sequences)), d.Sequences),
            () => Count(DataField(nameof(d.TrainSequences)), d.TrainSequences),
            () => Count(DataField(nameof(d.ValidationSequences)), d.ValidationSequences),
            () => VocabularyProblem(d),
            () => Count(DataField(nameof(d.NgramVocabularySize)), d.NgramVocabularySize),
            () => Count(DataField(nameof(d.NgramTrainWindows)), d.NgramTrainWindows),
            () => Count(DataField(nameof(d.NgramValidationWindows)), d.NgramValidationWindows),
            () => d.Files is { } files && files.Any(f => f is null) ? $"{DataField(nameof(d.Files))} must list file paths; it holds null." : null,
            () => Count(DataField(nameof(d.Characters)), d.Characters),
            () => Count(DataField(nameof(d.TrainCharacters)), d.TrainCharacters),
            () => Count(DataField(nameof(d.ValidationCharacters)), d.ValidationCharacters),
            () => NotNull(FieldName("", Json(nameof(Device))), Device),
        };
        return checks.Select(check => check()).FirstOrDefault(problem => problem is not null);
    }

    private static string? VocabularyProblem(DataSummary d)
    {
        string field = DataField(nameof(d.Vocabulary));
        if (d.Vocabulary is null)
        {
            return NotNull(field, d.Vocabulary);
        }

        CharVocabulary vocabulary;
        try
        {
            vocabulary = CharVocabulary.Deserialize(d.Vocabulary);
        }
        catch (FormatException e)
        {
            return $"{field} is not a vocabulary: {e.Message}";
        }

        return d.VocabularySize == vocabulary.Count ? null
            : string.Create(CultureInfo.InvariantCulture, $"{DataField(nameof(d.VocabularySize))} must be {vocabulary.Count}, the characters of {field}; got {d.VocabularySize}.");
    }

    private static string Json(string property) => TrainSettings.Json.PropertyNamingPolicy!.ConvertName(property);

    private static string Setting(string property) => FieldName("settings", Json(property));

    private static string DataField(string property) => FieldName("data", Json(property));

    // The message OptionParsing gives a flag out of its range, for the field.
    private static string? InRange<T>(string field, T value, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => T.IsFinite(value) && range.Contains(value) ? null : string.Create(CultureInfo.InvariantCulture, $"{field} must be {range}; got {value}.");

    // A field that null leaves unset (all windows, whole epochs, no clipping, ...).
    private static string? InRange<T>(string field, T? value, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => value is { } given ? InRange(field, given, range) : null;

    // A parameter of some optimizers only, which train records as its flag's default with the others.
    private static string? Unused<T>(string field, T value, T unused, string[] takers, string optimizer, string what)
        where T : IEquatable<T>
        => value.Equals(unused) || takers.Contains(optimizer) ? null
            : $"{field} must be {Shown(unused)} with optimizer {optimizer}, which has no {what}; got {Shown(value)}.";

    // A setting's value as config.json writes it.
    private static string Shown<T>(T value) => value is bool flag ? (flag ? "true" : "false") : string.Create(CultureInfo.InvariantCulture, $"{value}");

    private static string? Count(string field, int? value) => InRange(field, value, NumberRange<int>.NonNegative());

    private static string? OneOf(string field, string? value, string[] allowed)
        => value is not null && allowed.Contains(value) ? null : $"{field} must be one of {string.Join(", ", allowed)}; got {(value is null ? "null" : $"'{value}'")}.";

    private static string? NotNull(string field, string? value) => value is null ? $"{field} must be a string; got null." : null;

    // A path that may be null (not given) but not empty.
    private static string? NotEmpty(string field, string? value) => value is { Length: 0 } ? $"{field} must be a path or null; got ''." : null;
}
