using System.Globalization;
using System.Text;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Samples.CharPredict;

/// <summary>The files of one training run: runs/&lt;timestamp&gt;-&lt;model&gt;/.</summary>
internal sealed class RunFolder(string path)
{
    /// <summary>The folder.</summary>
    public string Path { get; } = path;

    /// <summary>config.json: every setting and the data summary.</summary>
    public string Config => Combine("config.json");

    /// <summary>metrics.csv: one row per model and epoch.</summary>
    public string Metrics => Combine("metrics.csv");

    /// <summary>loss.png: training and validation loss of both models.</summary>
    public string Chart => Combine("loss.png");

    /// <summary>samples.txt: the text generated after each epoch.</summary>
    public string Samples => Combine("samples.txt");

    /// <summary>
    /// Adds <paramref name="line"/> (with its "\n") to samples.txt. The file is rewritten whole through
    /// <see cref="AtomicFile"/>, as every other file of the run, so an interruption never leaves a torn line; it holds
    /// one short line per epoch.
    /// </summary>
    public void AppendSample(string line)
    {
        byte[] old = File.Exists(Samples) ? File.ReadAllBytes(Samples) : [];
        byte[] added = Encoding.UTF8.GetBytes(line + "\n");
        AtomicFile.Write(Samples, stream =>
        {
            stream.Write(old);
            stream.Write(added);
        });
    }

    /// <summary>The short name of a model family: ngram, lstm, gru or rnn.</summary>
    public static string NameOf(ModelKind kind) => kind switch
    {
        ModelKind.Lstm => "lstm",
        ModelKind.Gru => "gru",
        ModelKind.Rnn => "rnn",
        _ => "ngram",
    };

    /// <summary>The recurrent model family of a --cell value (lstm, gru or rnn), the inverse of <see cref="NameOf"/>.</summary>
    public static ModelKind RecurrentKindOf(string cell) => cell switch
    {
        "gru" => ModelKind.Gru,
        "rnn" => ModelKind.Rnn,
        _ => ModelKind.Lstm,
    };

    /// <summary>The title of a model family in reports: LSTM, GRU, RNN or n-gram MLP.</summary>
    public static string TitleOf(ModelKind kind) => kind switch
    {
        ModelKind.Lstm => "LSTM",
        ModelKind.Gru => "GRU",
        ModelKind.Rnn => "RNN",
        _ => "n-gram MLP",
    };

    /// <summary>
    /// A new folder under <paramref name="parent"/>, named after the time and the models; it is made on disk only by
    /// <see cref="Create"/>, once everything is validated, so a command that fails leaves no empty run folder.
    /// </summary>
    public static RunFolder NewIn(string parent, string model)
    {
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return new RunFolder(FreePath(System.IO.Path.Combine(parent, $"{stamp}-{model}")));
    }

    /// <summary>
    /// Makes the folder on disk and claims it by creating its lock file, which only one process can create: a second
    /// <c>train</c> started in the same second, which chose the same name, takes the next free one instead.
    /// </summary>
    /// <returns>The folder claimed: this one, or one with the next free suffix.</returns>
    public RunFolder Create()
    {
        for (var candidate = this; ; candidate = new RunFolder(FreePath(Path)))
        {
            Directory.CreateDirectory(candidate.Path);
            try
            {
                using (new FileStream(candidate.Combine(".train.lock"), FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                }

                return candidate;
            }
            catch (IOException) when (File.Exists(candidate.Combine(".train.lock")))
            {
                // Claimed by another train between its choice of the name and ours.
            }
        }
    }

    // path, or path-2, path-3, ...: the first that does not exist.
    private static string FreePath(string path)
    {
        var free = path;
        for (int k = 2; Directory.Exists(free); k++)
        {
            free = $"{path}-{k}";
        }

        return free;
    }

    /// <summary>
    /// Holds the run for one <c>train</c> until disposed: an exclusive lock on <c>.train.lock</c>, which the system
    /// releases however the process ends. A second <c>train --resume</c> of a run still training would otherwise remove
    /// the first one's temporary files as a killed run's leftovers. Taking it also proves the folder writable before
    /// any batch is trained.
    /// </summary>
    /// <exception cref="IOException">Another process holds the run, or the folder cannot be written.</exception>
    public FileStream Lock()
    {
        // Every save makes a new file in the folder, which the lock file, made once, does not prove possible.
        try
        {
            using (new FileStream(Combine($".write-check.{Environment.ProcessId}.tmp"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot write in {Path}: {e.Message}", e);
        }

        string path = Combine(".train.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Cannot write in {Path}: {e.Message}", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(path))
        {
            // The folder was just written to, so what fails here is the lock another process holds.
            throw new IOException($"{Path} is in use by another 'train' (it holds {path}); let that one finish, or stop it, first.", e);
        }
    }

    /// <summary>The model checkpoint (its optimizer state sits beside it as NAME.optimizer.ID.safetensors, named in its metadata).</summary>
    public string Checkpoint(ModelKind kind) => Combine(NameOf(kind) + ".safetensors");

    /// <summary>
    /// The mark that the model's checkpoint was committed at least once, written right after its first save. A resume
    /// that finds the mark without the checkpoint refuses the run (the checkpoint was deleted); with neither, the model's
    /// first save never committed, and the model trains from scratch.
    /// </summary>
    public string SavedMark(ModelKind kind) => Combine(NameOf(kind) + ".saved");

    /// <summary>The state of a partly done epoch, written when training stops mid-epoch.</summary>
    public string PartialEpoch(ModelKind kind) => Combine(NameOf(kind) + ".partial-epoch.json");

    /// <summary>The model with the lowest validation loss so far (no optimizer state: for sampling, not resuming).</summary>
    public string Best(ModelKind kind) => Combine(NameOf(kind) + ".best.safetensors");

    /// <summary>Each finished epoch's exact validation loss, which a resumed run replays its schedule and its best loss from.</summary>
    public string History(ModelKind kind) => Combine(NameOf(kind) + ".history.json");

    /// <summary>
    /// The recurrent state carried into the batch after the checkpoint saved at <paramref name="step"/> (stateful training
    /// stopped or saved mid-epoch); a file per step, so that the checkpoint always finds its own.
    /// </summary>
    public string CarriedState(ModelKind kind, long step) => Combine(string.Create(CultureInfo.InvariantCulture, $"{NameOf(kind)}.state.{step}.bin"));

    /// <summary>Every carried-state file of the model.</summary>
    public string[] CarriedStates(ModelKind kind) => Directory.Exists(Path) ? Directory.GetFiles(Path, NameOf(kind) + ".state.*.bin") : [];

    /// <summary>
    /// Deletes the hidden temporary files that a process killed while writing the run's files left (the checkpoints'
    /// own are removed by <see cref="Models.Checkpoints.ModelCheckpoint.RemoveLeftovers"/>).
    /// </summary>
    public void RemoveLeftovers(IEnumerable<ModelKind> kinds)
    {
        foreach (var file in kinds.SelectMany(k => new[] { SavedMark(k), PartialEpoch(k), History(k) }.Concat(CarriedStates(k))).Concat([Config, Metrics, Chart, Samples]))
        {
            AtomicFile.RemoveLeftovers(file);
        }
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);
}
