using System.Globalization;
using System.Text.Json;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Optim;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// A trained model on disk: a safetensors file whose tensors are exactly the PyTorch state_dict of the
/// notebook's module (so <c>load_state_dict</c> reads it), with the model spec, the vocabularies and the
/// training position in its metadata. The optimizer's state (Adam's, AdamW's, Sgd's or RMSprop's) goes to a sibling file, <c>NAME.optimizer.ID.safetensors</c>,
/// so the model file stays loadable by PyTorch with strict=True. The two are replaced together or not at all.
/// </summary>
public sealed class ModelCheckpoint
{
    private const string SpecKey = "tensorlet.spec";
    private const string VocabularyKey = "tensorlet.vocabulary";
    private const string NgramVocabularyKey = "tensorlet.ngram_vocabulary";
    private const string EpochKey = "tensorlet.epoch";
    private const string BatchKey = "tensorlet.batch_in_epoch";
    private const string StepKey = "tensorlet.step";
    private const string DropoutSeedKey = "tensorlet.dropout_seed";

    private ModelCheckpoint(string path, CharModelSpec spec, CharVocabulary vocabulary, NgramVocabulary? ngrams, TrainingPosition position, SafeTensorsFile file)
    {
        Path = path;
        Spec = spec;
        Vocabulary = vocabulary;
        Ngrams = ngrams;
        Position = position;
        File = file;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The model's family and sizes.</summary>
    public CharModelSpec Spec { get; }

    /// <summary>The character vocabulary the model was trained with.</summary>
    public CharVocabulary Vocabulary { get; }

    /// <summary>The n-gram vocabulary, for the n-gram model.</summary>
    public NgramVocabulary? Ngrams { get; }

    /// <summary>Where training stood when the checkpoint was written.</summary>
    public TrainingPosition Position { get; }

    private SafeTensorsFile File { get; }

    /// <summary>
    /// Writes the model and, when given, the state of its optimizer (<see cref="Adam"/>, <see cref="AdamW"/>,
    /// <see cref="Sgd"/> or <see cref="RMSprop"/>), as one pair: a process killed at any point of the save leaves either
    /// the previous pair or the new one, never a mix. The optimizer state goes to a sibling file,
    /// <c>NAME.optimizer.ID.safetensors</c>, which the model file names.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> has a negative epoch, batch or step, which <see cref="Read"/> would refuse; nothing is written.</exception>
    /// <exception cref="ArgumentException"><paramref name="optimizer"/> is of a kind whose state checkpoints do not hold, or has taken another number of steps than <paramref name="position"/>'s step, a pair <see cref="LoadOptimizerState"/> would refuse, or its state holds a value no training gives (NaN, an infinity other than a mean of squares' +∞, a negative mean of squares), which <see cref="LoadOptimizerState"/> would refuse as damage; or a weight of <paramref name="model"/> is NaN or an infinity, which <see cref="CreateModel(Device)"/> would refuse as damage. Nothing is written: the previous pair stays whole.</exception>
    public static void Save(string path, ICharModel model, CharModelSpec spec, CharVocabulary vocabulary, NgramVocabulary? ngrams, TrainingPosition position, IOptimizer? optimizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(position);

        // Save writes only what Read takes back, so that a checkpoint that was written can be resumed from.
        if (position.Epoch < 0 || position.BatchInEpoch < 0 || position.Step < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"A training position counts from 0; got epoch {position.Epoch}, batch {position.BatchInEpoch}, step {position.Step}.");
        }

        if (optimizer is not null)
        {
            OptimizerStateFile.CheckSupported(optimizer, nameof(optimizer));
        }

        if (optimizer is not null && optimizer.StepCount != position.Step)
        {
            throw new ArgumentException($"The optimizer has taken {optimizer.StepCount} steps but the training position is at step {position.Step}; a checkpoint holds both at one step, so resuming would refuse this one.", nameof(optimizer));
        }

        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [SpecKey] = spec.ToJson(),
            [VocabularyKey] = vocabulary.Serialize(),
            [EpochKey] = position.Epoch.ToString(CultureInfo.InvariantCulture),
            [BatchKey] = position.BatchInEpoch.ToString(CultureInfo.InvariantCulture),
            [StepKey] = position.Step.ToString(CultureInfo.InvariantCulture),
        };
        if (ngrams is not null)
        {
            metadata[NgramVocabularyKey] = ngrams.Serialize();
        }

        if (model is RnnCharModel recurrent)
        {
            // The dropout masks of later batches depend on it: a resumed run must draw the same ones.
            metadata[DropoutSeedKey] = recurrent.DropoutSeed.ToString(CultureInfo.InvariantCulture);
        }

        // Read and checked (the weights, and the optimizer state by the rule its load applies) before the optimizer file
        // is written: a refused save leaves the previous pair as it was.
        var tensors = model.Parameters.Parameters.Select(p => new SafeTensor(p.Name, [.. p.Shape], p.Value.ToArray())).ToList();
        ModuleCheckpoint.CheckFinite(tensors.Select(t => (t.Name, t.Data)), "model", nameof(model));
        var writeOptimizer = optimizer is null ? null : OptimizerStateFile.Writer(optimizer, model.Parameters, schedule: null, nameof(optimizer));
        CheckpointPair.Save(path, metadata, writeOptimizer, meta => SafeTensorsFile.Write(path, tensors, meta));
    }

    /// <summary>
    /// Deletes what a save of <paramref name="path"/> that was interrupted (a killed process) left behind: hidden
    /// temporary files and optimizer files the model file does not name (only when the one it names is there, so a
    /// model file copied in by hand costs no optimizer state). Saves do this themselves; call it before resuming to
    /// start from a tidy folder. The checkpoint itself is never changed.
    /// </summary>
    public static void RemoveLeftovers(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckpointPair.RemoveLeftovers(path);
    }

    /// <summary>Deletes a checkpoint: the model file, its optimizer state and any leftovers of interrupted saves.</summary>
    public static void Delete(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckpointPair.Delete(path);
    }

    /// <summary>
    /// Blocks until no checkpoint save is in progress in this process, so that ending the process right after
    /// (e.g. on a second Ctrl+C) does not waste a save that was nearly done. Saves are atomic either way.
    /// </summary>
    public static void WaitForSaves() => CheckpointPair.WaitForSaves();

    /// <summary>
    /// Reads a checkpoint's metadata and tensors, checking that it is one of ours and, when
    /// <paramref name="expectedKind"/> is given, of that model family.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing, truncated, foreign, of the other model, or its training position is malformed or negative.</exception>
    public static ModelCheckpoint Read(string path, ModelKind? expectedKind = null)
    {
        var file = SafeTensorsFile.Read(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var value)
            ? value
            : throw new CheckpointException($"{path} is not a Tensorlet model checkpoint: its metadata has no '{key}'.");
        CharModelSpec spec;
        try
        {
            spec = CharModelSpec.FromJson(Meta(SpecKey));
            spec.Validate();
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw new CheckpointException($"{path} has an unreadable model spec: {ex.Message}", ex);
        }

        if (expectedKind is { } kind && spec.Kind != kind)
        {
            throw new CheckpointException($"{path} holds {Describe(spec.Kind)}, not {Describe(kind)}.");
        }

        var vocabulary = Deserialize(path, "character vocabulary", Meta(VocabularyKey), CharVocabulary.Deserialize);
        if (vocabulary.Count != spec.CharVocabularySize)
        {
            throw new CheckpointException($"{path} is inconsistent: its vocabulary has {vocabulary.Count} characters but its model {spec.CharVocabularySize}.");
        }

        NgramVocabulary? ngrams = null;
        if (spec.Kind == ModelKind.Ngram)
        {
            ngrams = Deserialize(path, "n-gram vocabulary", Meta(NgramVocabularyKey), NgramVocabulary.Deserialize);
            if (ngrams.Count != spec.NgramVocabularySize || ngrams.NgramOrder != spec.NgramOrder)
            {
                throw new CheckpointException($"{path} is inconsistent: its n-gram vocabulary has {ngrams.Count} {ngrams.NgramOrder}-grams but its model expects {spec.NgramVocabularySize} {spec.NgramOrder}-grams.");
            }
        }

        // The step is read as a long, as TrainingPosition holds it and Save writes it.
        var position = new TrainingPosition(
            (int)ParseCount(path, EpochKey, Meta(EpochKey), int.MaxValue),
            (int)ParseCount(path, BatchKey, Meta(BatchKey), int.MaxValue),
            ParseCount(path, StepKey, Meta(StepKey), long.MaxValue));
        return new ModelCheckpoint(path, spec, vocabulary, ngrams, position, file);
    }

    /// <summary>Builds the model on <paramref name="device"/> and loads the weights, checking every name and shape.</summary>
    public ICharModel CreateModel(Device device) => CreateModel(device, Spec);

    /// <summary>
    /// Builds the recurrent model on <paramref name="device"/> with <paramref name="dropout"/> between its layers in
    /// place of the checkpoint's, and loads the weights: to go on training it with other regularisation (dropout has
    /// no weights, so any value fits them).
    /// </summary>
    /// <exception cref="InvalidOperationException">The checkpoint holds an n-gram model, which has no dropout.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> is outside [0, 1).</exception>
    public ICharModel CreateModel(Device device, float dropout)
    {
        if (Spec.Kind == ModelKind.Ngram)
        {
            throw new InvalidOperationException($"{Path} holds an n-gram model, which has no dropout to set.");
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), string.Create(CultureInfo.InvariantCulture, $"Dropout is a probability in [0, 1); got {dropout}."));
        }

        return CreateModel(device, Spec with { Dropout = dropout });
    }

    private ICharModel CreateModel(Device device, CharModelSpec spec)
    {
        var model = spec.Create(device, seed: 0);
        try
        {
            model.Parameters.Load(ModuleCheckpoint.StateDict(File, model.Parameters.Parameters, "model"));
            if (model is RnnCharModel recurrent && File.Metadata.TryGetValue(DropoutSeedKey, out var seedText))
            {
                recurrent.DropoutSeed = ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                    ? seed
                    : throw new CheckpointException($"{Path} has a malformed dropout seed: '{seedText}'.");
            }

            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Restores the optimizer's state (<see cref="Adam"/>, <see cref="AdamW"/>, <see cref="Sgd"/> or
    /// <see cref="RMSprop"/>) from the optimizer file the model file names, checking it was saved with this checkpoint:
    /// both record the same pair id (a pair saved before the id was recorded has it in neither, and is matched by step).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="optimizer"/> is of a kind whose state checkpoints do not hold.</exception>
    /// <exception cref="CheckpointException">The optimizer file is missing, corrupt, not the one saved with the model file, of another step or of another model, or holds the state of another optimizer (another kind; an Sgd or RMSprop with momentum where the one given has none, or the reverse; a centered RMSprop where the one given is not, or the reverse; or other parameter groups or group settings), or a state no training gives (NaN, an infinity other than a mean square's +∞, or a negative mean square).</exception>
    public void LoadOptimizerState(ICharModel model, IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var path = CheckpointPair.OptimizerPath(Path, File.Metadata);
        if (!System.IO.File.Exists(path))
        {
            throw new CheckpointException(File.Metadata.ContainsKey(CheckpointPair.OptimizerFileKey)
                ? $"{Path} names {System.IO.Path.GetFileName(path)} as its optimizer state, which is not beside it: the model file was not saved in this folder, or that file was removed."
                : $"{Path} holds no optimizer state (it was saved without one, as a .best checkpoint is): training cannot go on from it.");
        }

        var (step, load) = OptimizerStateFile.Read(path, File, optimizer, model.Parameters);

        // The pair id already binds the two files; for a pair saved without one, the step is all there is to compare.
        if (step != Position.Step)
        {
            throw new CheckpointException($"{path} does not belong to {Path}: it was saved at step {step}, the model at step {Position.Step}.");
        }

        load();
    }

    /// <summary>Throws a <see cref="CheckpointException"/> unless the checkpoint was trained on <paramref name="expected"/>.</summary>
    public void EnsureVocabulary(CharVocabulary expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (!Vocabulary.Equals(expected))
        {
            throw new CheckpointException(
                $"{Path} was trained on a different vocabulary ({Vocabulary.Count} characters) from the data's ({expected.Count}): {VocabularyDifference(Vocabulary, expected, "the checkpoint", "the data")}.");
        }
    }

    /// <summary>
    /// What tells two vocabularies apart, for a message: "the data has 'Z', U+000A that the checkpoint lacks; the
    /// checkpoint has '!' that the data lacks" (either half only when it applies).
    /// </summary>
    internal static string VocabularyDifference(CharVocabulary first, CharVocabulary second, string firstName, string secondName)
    {
        var parts = new List<string>();
        if (second.QuoteMissingFrom(first) is { Length: > 0 } onlySecond)
        {
            parts.Add($"{secondName} has {onlySecond} that {firstName} lacks");
        }

        if (first.QuoteMissingFrom(second) is { Length: > 0 } onlyFirst)
        {
            parts.Add($"{firstName} has {onlyFirst} that {secondName} lacks");
        }

        return parts.Count > 0 ? string.Join("; ", parts) : "the same characters in another order";
    }

    private static T Deserialize<T>(string path, string what, string text, Func<string, T> deserialize)
    {
        try
        {
            return deserialize(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new CheckpointException($"{path} has an unreadable {what}: {e.Message}", e);
        }
    }

    private static string Describe(ModelKind kind) => kind switch
    {
        ModelKind.Lstm => "an LSTM model",
        ModelKind.Gru => "a GRU model",
        ModelKind.Rnn => "an RNN model",
        _ => "an n-gram model",
    };

    // A count of the training position, from 0 to max; Save writes no other.
    private static long ParseCount(string path, string key, string text, long max)
    {
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value > max)
        {
            throw new CheckpointException($"{path} has a malformed number in its metadata: {key} is '{text}'.");
        }

        return value >= 0
            ? value
            : throw new CheckpointException($"{path} has a negative training position in its metadata: {key} is '{text}'; the file is damaged.");
    }
}
