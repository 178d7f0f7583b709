using Tensorlet.Kernels;
using Tensorlet.Models.Training;
using Tensorlet.Nn;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Generates token ids from any module that maps ids to next-token logits: given ids [T, 1] (time-major, one
/// sequence) it returns logits [T, 1, V] or [T, V], whose last row scores the token after the last id, as a
/// <c>Sequential(Embedding, Lstm, Gru or Rnn, Linear)</c> or the char models do. A model whose recurrent modules are
/// batch-first is given [1, T] and returns [1, T, V].
/// <para>
/// A model with recurrent modules (any <see cref="RnnBase"/>: <see cref="Lstm"/>, <see cref="Gru"/>, <see cref="Rnn"/>) carries their
/// state from step to step: the start text runs once, then each new id is one single-step forward, where the notebook
/// re-runs the whole prefix each time (O(L²)); both give the same distribution, which the tests check. A model without one, or any model given a
/// <c>window</c>, re-runs the last <c>window</c> ids from a zero state for every new id. The model runs in evaluation
/// mode (no dropout); every module's mode and state flags are restored when the enumeration ends. A model with a bidirectional
/// recurrent module cannot carry its state, and needs a <c>window</c>.
/// </para>
/// </summary>
public static class SequenceGenerator
{
    /// <summary>
    /// Runs <paramref name="start"/> through the model, then draws <paramref name="length"/> new ids.
    /// </summary>
    /// <param name="model">The model, built.</param>
    /// <param name="start">The start ids, at least one.</param>
    /// <param name="length">How many new ids to generate.</param>
    /// <param name="temperature">Softmax temperature; lower is greedier; 0 takes the most likely id.</param>
    /// <param name="seed">Seeds the draws.</param>
    /// <param name="topK">Draw only among the <paramref name="topK"/> most likely ids; 0 for all.</param>
    /// <param name="window">Re-run the last this many ids for every new id instead of carrying a recurrent state; null
    /// to carry the state (a model without recurrent modules then re-runs the whole text so far).</param>
    public static int[] Generate(Module model, ReadOnlySpan<int> start, int length, float temperature, int seed, int topK = 0, int? window = null)
    {
        ArgumentChecks.ThrowIfNegative(length);
        var result = new int[length];
        int i = 0;
        foreach (int id in Stream(model, start.ToArray(), temperature, seed, topK, window))
        {
            if (i == length)
            {
                break;
            }

            result[i++] = id;
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="start"/> through the model, then draws new ids one at a time, as the caller asks for them
    /// (without end: take as many as needed). The sampler's buffers are freed when the enumeration is disposed.
    /// </summary>
    /// <param name="model">The model, built.</param>
    /// <param name="start">The start ids, at least one.</param>
    /// <param name="temperature">Softmax temperature; lower is greedier; 0 takes the most likely id.</param>
    /// <param name="seed">Seeds the draws.</param>
    /// <param name="topK">Draw only among the <paramref name="topK"/> most likely ids; 0 for all.</param>
    /// <param name="window">As in <see cref="Generate"/>.</param>
    public static IEnumerable<int> Stream(Module model, int[] start, float temperature, int seed, int topK = 0, int? window = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(start);
        if (start.Length == 0)
        {
            throw new ArgumentException("Generation needs a start text of at least one token.", nameof(start));
        }

        ArgumentChecks.ThrowIfNegative(topK);
        CategoricalSampler.CheckTemperature(temperature);
        if (window is int w)
        {
            ArgumentChecks.ThrowIfNegativeOrZero(w, nameof(window));
        }

        _ = model.Parameters; // a clear error for a model that is not built
        _ = CheckedRecurrentModules(model, window);
        return Draws(model, start, temperature, seed, topK, window);
    }

    /// <summary>The next-token distribution after <paramref name="prefix"/>, computed the notebook's way: the whole prefix from a zero state.</summary>
    internal static float[] NextDistributionFromScratch(Module model, ReadOnlySpan<int> prefix, float temperature)
        => NextDistribution(model, prefix.ToArray(), temperature, window: prefix.Length);

    /// <summary>The next-token distribution after <paramref name="prefix"/>, fed one token at a time with the state carried.</summary>
    internal static float[] NextDistributionCarried(Module model, ReadOnlySpan<int> prefix, float temperature)
    {
        using var session = new Session(model, seed: 0, topK: 0, window: null);
        Tensor? logits = null;
        foreach (int id in prefix)
        {
            logits = session.Run([id]);
        }

        return logits is null
            ? throw new ArgumentException("The prefix is empty.", nameof(prefix))
            : session.Distribution(logits, temperature);
    }

    private static float[] NextDistribution(Module model, int[] prefix, float temperature, int? window)
    {
        using var session = new Session(model, seed: 0, topK: 0, window);
        return session.Distribution(session.Run(prefix), temperature);
    }

    private static IEnumerable<int> Draws(Module model, int[] start, float temperature, int seed, int topK, int? window)
    {
        using var session = new Session(model, seed, topK, window);
        var text = new List<int>(start);
        var logits = session.Carries ? session.RunInChunks(start) : session.Run(Window(text, window));
        while (true)
        {
            int id = session.Draw(logits, temperature);
            yield return id;
            text.Add(id);
            logits = session.Run(session.Carries ? [id] : Window(text, window));
        }
    }

    /// <summary>
    /// The model's recurrent modules, in order, checked for generation: one layout for all, and none bidirectional where
    /// the state is carried (no <paramref name="window"/>).
    /// </summary>
    private static List<RnnBase> CheckedRecurrentModules(Module model, int? window)
    {
        var recurrent = RecurrentModules.Of(model);
        if (recurrent.Exists(r => r.BatchFirst != recurrent[0].BatchFirst))
        {
            throw new ArgumentException("The model has batch-first and time-major recurrent modules; generation feeds its one sequence to all of them in one layout.", nameof(model));
        }

        if (window is null && recurrent.Find(r => r.Bidirectional) is { } bidirectional)
        {
            throw new ArgumentException($"The model's {bidirectional.GetType().Name} is bidirectional and cannot carry its state from one id to the next: give a window, to re-run the last ids for every new one.", nameof(model));
        }

        return recurrent;
    }

    private static int[] Window(List<int> text, int? window)
    {
        int n = Math.Min(text.Count, window ?? int.MaxValue);
        return [.. text.GetRange(text.Count - n, n)];
    }

    /// <summary>The model in evaluation mode with its recurrent state carried (or not), and the draw's buffers; Dispose restores the model.</summary>
    private sealed class Session : IDisposable
    {
        private readonly Module model;
        private readonly ModuleModes modes;
        private readonly List<(RnnBase Module, bool Carried)> recurrent;
        private readonly int seed;
        private readonly int topK;
        private CategoricalSampler? sampler;
        private IndexTensor? ids;

        public Session(Module model, int seed, int topK, int? window)
        {
            this.model = model;
            this.seed = seed;
            this.topK = topK;
            modes = new ModuleModes(model);
            recurrent = [.. CheckedRecurrentModules(model, window).Select(r => (r, r.CarryState))];
            BatchFirst = recurrent.Count > 0 && recurrent[0].Module.BatchFirst;
            Carries = window is null && recurrent.Count > 0;

            foreach (var (module, _) in recurrent)
            {
                SetCarry(module, Carries);
            }

            modes.Eval();
        }

        /// <summary>Whether the recurrent state is carried from one <see cref="Run"/> to the next.</summary>
        public bool Carries { get; }

        /// <summary>Whether the model's recurrent modules take [B, T], so the ids go in as [1, T].</summary>
        public bool BatchFirst { get; }

        /// <summary>The logits [T, V] of <paramref name="tokens"/>, owned by the model until its next Forward.</summary>
        public Tensor Run(int[] tokens)
        {
            if (ids is null || ids.Length != tokens.Length)
            {
                ids?.Dispose();
                ids = BatchFirst ? model.Device.IndexZeros(1, tokens.Length) : model.Device.IndexZeros(tokens.Length, 1);
            }

            ids.CopyFrom(tokens);
            var output = model.Forward(ids);
            return output.Reshape((int)(output.Length / output.Shape[^1]), output.Shape[^1]);
        }

        /// <summary>
        /// The logits of the last chunk of <paramref name="tokens"/>, run <see cref="Evaluator.ChunkSteps"/> at a time
        /// with the state carried: a start text of a whole book takes the activations of one chunk, not of the book.
        /// </summary>
        public Tensor RunInChunks(int[] tokens)
        {
            Tensor? logits = null;
            for (int first = 0; first < tokens.Length; first += Evaluator.ChunkSteps)
            {
                logits = Run(tokens[first..Math.Min(tokens.Length, first + Evaluator.ChunkSteps)]);
            }

            return logits!;
        }

        public int Draw(Tensor logits, float temperature)
        {
            using var last = logits.Slice(logits.Rows - 1, 1);
            return Sampler(logits).Draw(last, temperature);
        }

        public float[] Distribution(Tensor logits, float temperature)
        {
            using var last = logits.Slice(logits.Rows - 1, 1);
            return Sampler(logits).Distribution(last, temperature).ToArray();
        }

        public void Dispose()
        {
            foreach (var (module, carried) in recurrent)
            {
                SetCarry(module, carried);
            }

            modes.Restore();
            sampler?.Dispose();
            ids?.Dispose();
        }

        // Sets whether a recurrent module carries its state, and forgets the state it holds.
        private static void SetCarry(RnnBase module, bool carry)
        {
            module.CarryState = carry;
            module.ResetState();
        }

        private CategoricalSampler Sampler(Tensor logits)
        {
            if (sampler is null)
            {
                // Each drawn id is fed back: more logits than ids the model takes would fail mid-generation, after
                // some tokens were already given out, on an id "outside" the first layer's range.
                int classes = logits.Shape[^1];
                if (InputVocabulary(model) is int vocabulary && classes > vocabulary)
                {
                    throw new ArgumentException(
                        $"The model gives {classes} logits per step but takes token ids below {vocabulary}: generation feeds each drawn id back, so it needs a model whose output is over its input vocabulary.",
                        nameof(model));
                }

                sampler = new CategoricalSampler(model.Device, classes, seed, topK);
            }

            return sampler;
        }

        // The number of token ids the model's first layer takes, where the library's modules say it; null otherwise.
        private static int? InputVocabulary(Module module) => module switch
        {
            Sequential { Count: > 0 } sequential => InputVocabulary(sequential[0]),
            Embedding embedding => embedding.NumEmbeddings,
            Linear linear => linear.InFeatures,
            RnnBase rnn => rnn.InputSize,
            _ => null,
        };
    }
}
