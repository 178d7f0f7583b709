using Tensorlet.Models.Modeling;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Generates characters from an <see cref="LstmCharModel"/> (or a <see cref="GruCharModel"/>). The (h, c) state is carried from step
/// to step, so L new characters cost L single-step forwards, where the notebook re-runs the whole
/// prefix each time (O(L²)); both give the same distribution, which the tests check.
/// </summary>
public static class LstmGenerator
{
    /// <summary>
    /// Runs <paramref name="start"/> through the model, then draws <paramref name="length"/> new character ids.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="start">The start ids, at least one.</param>
    /// <param name="length">How many new characters to generate.</param>
    /// <param name="temperature">Softmax temperature; lower is greedier; 0 takes the most likely character.</param>
    /// <param name="seed">Seeds the draws.</param>
    /// <param name="topK">Draw only among the <paramref name="topK"/> most likely characters; 0 for all.</param>
    public static int[] Generate(LstmCharModel model, ReadOnlySpan<int> start, int length, float temperature, int seed, int topK = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var result = new int[length];
        int i = 0;
        foreach (int id in Stream(model, start.ToArray(), temperature, seed, topK))
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
    /// Runs <paramref name="start"/> through the model, then draws new character ids one at a time, as the caller asks
    /// for them (without end: take as many as needed). The model's buffers are freed when the enumeration is disposed.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="start">The start ids, at least one.</param>
    /// <param name="temperature">Softmax temperature; lower is greedier; 0 takes the most likely character.</param>
    /// <param name="seed">Seeds the draws.</param>
    /// <param name="topK">Draw only among the <paramref name="topK"/> most likely characters; 0 for all.</param>
    public static IEnumerable<int> Stream(LstmCharModel model, int[] start, float temperature, int seed, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(start);
        if (start.Length == 0)
        {
            throw new ArgumentException("The LSTM needs a start text of at least one character.", nameof(start));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        return Draws(model, model.Lstm.CreateState(model.Device, 1), (ids, state, first) => model.Logits(ids, 1, training: false, step: 0, first ? null : state, state), start, temperature, seed, topK);
    }

    /// <summary>
    /// The same for a <see cref="GruCharModel"/>: runs <paramref name="start"/> through it, then draws new character ids
    /// one at a time, its h carried from step to step.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="start">The start ids, at least one.</param>
    /// <param name="temperature">Softmax temperature; lower is greedier; 0 takes the most likely character.</param>
    /// <param name="seed">Seeds the draws.</param>
    /// <param name="topK">Draw only among the <paramref name="topK"/> most likely characters; 0 for all.</param>
    public static IEnumerable<int> Stream(GruCharModel model, int[] start, float temperature, int seed, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(start);
        if (start.Length == 0)
        {
            throw new ArgumentException("The GRU needs a start text of at least one character.", nameof(start));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        return Draws(model, model.Gru.CreateState(model.Device, 1), (ids, state, first) => model.Logits(ids, 1, training: false, step: 0, first ? null : state, state), start, temperature, seed, topK);
    }

    // Draws from a recurrent model: logitsOf(ids, state, first) runs ids from the state (from zeros when first) and
    // leaves the final state in it. The state is the generator's, freed with the enumeration.
    private static IEnumerable<int> Draws<TState>(ICharModel model, TState carried, Func<IndexTensor, TState, bool, Tensor> logitsOf, int[] start, float temperature, int seed, int topK)
        where TState : IDisposable
    {
        var device = model.Device;
        using var state = carried;
        using var prefix = device.IndexFromArray(start, start.Length);
        using var next = device.IndexZeros(1);
        using var sampler = new CategoricalSampler(device, model.CharVocabularySize, seed, topK);
        var logits = logitsOf(prefix, state, true);
        var one = new int[1];
        while (true)
        {
            using (var lastRow = logits.Slice(logits.Rows - 1, 1))
            {
                one[0] = sampler.Draw(lastRow, temperature);
            }

            yield return one[0];
            next.CopyFrom(one);
            logits = logitsOf(next, state, false);
        }
    }

    /// <summary>
    /// The next-character distribution after <paramref name="prefix"/>, computed the notebook's way:
    /// the whole prefix from a zero state.
    /// </summary>
    internal static float[] NextDistributionFromScratch(LstmCharModel model, ReadOnlySpan<int> prefix, float temperature)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var input = model.Device.IndexFromArray(prefix, prefix.Length);
        using var sampler = new CategoricalSampler(model.Device, model.CharVocabularySize, 0);
        var logits = model.Logits(input, 1, training: false, step: 0, initialState: null, finalState: null);
        using var lastRow = logits.Slice(logits.Rows - 1, 1);
        return sampler.Distribution(lastRow, temperature).ToArray();
    }

    /// <summary>The next-character distribution after <paramref name="prefix"/>, fed one character at a time with the state carried.</summary>
    internal static float[] NextDistributionCarried(LstmCharModel model, ReadOnlySpan<int> prefix, float temperature)
    {
        ArgumentNullException.ThrowIfNull(model);
        var device = model.Device;
        using var state = model.Lstm.CreateState(device, 1);
        using var one = device.IndexZeros(1);
        using var sampler = new CategoricalSampler(device, model.CharVocabularySize, 0);
        Tensor? logits = null;
        foreach (var id in prefix)
        {
            one.CopyFrom([id]);
            logits = model.Logits(one, 1, training: false, step: 0, initialState: state, finalState: state);
        }

        if (logits is null)
        {
            throw new ArgumentException("The prefix is empty.", nameof(prefix));
        }

        return sampler.Distribution(logits, temperature).ToArray();
    }
}
