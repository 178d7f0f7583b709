using Tensorlet.Models.Modeling;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Generates characters from a recurrent char model (<see cref="LstmCharModel"/> or <see cref="GruCharModel"/>). The
/// recurrent state is carried from step to step, so L new characters cost L single-step forwards, where the notebook re-runs the whole
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
    public static int[] Generate(RnnCharModel model, ReadOnlySpan<int> start, int length, float temperature, int seed, int topK = 0)
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
    public static IEnumerable<int> Stream(RnnCharModel model, int[] start, float temperature, int seed, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(start);
        if (start.Length == 0)
        {
            throw new ArgumentException("The model needs a start text of at least one character.", nameof(start));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        return Draws(model, start, temperature, seed, topK);
    }

    private static IEnumerable<int> Draws(RnnCharModel model, int[] start, float temperature, int seed, int topK)
    {
        var device = model.Device;
        using var state = model.Rnn.NewState(device, 1);
        using var prefix = device.IndexFromArray(start, start.Length);
        using var next = device.IndexZeros(1);
        using var sampler = new CategoricalSampler(device, model.CharVocabularySize, seed, topK);
        var logits = model.Logits(prefix, 1, training: false, step: 0, initialState: null, finalState: state);
        var one = new int[1];
        while (true)
        {
            using (var lastRow = logits.Slice(logits.Rows - 1, 1))
            {
                one[0] = sampler.Draw(lastRow, temperature);
            }

            yield return one[0];
            next.CopyFrom(one);
            logits = model.Logits(next, 1, training: false, step: 0, initialState: state, finalState: state);
        }
    }

    /// <summary>
    /// The next-character distribution after <paramref name="prefix"/>, computed the notebook's way:
    /// the whole prefix from a zero state.
    /// </summary>
    internal static float[] NextDistributionFromScratch(RnnCharModel model, ReadOnlySpan<int> prefix, float temperature)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var input = model.Device.IndexFromArray(prefix, prefix.Length);
        using var sampler = new CategoricalSampler(model.Device, model.CharVocabularySize, 0);
        var logits = model.Logits(input, 1, training: false, step: 0, initialState: null, finalState: null);
        using var lastRow = logits.Slice(logits.Rows - 1, 1);
        return sampler.Distribution(lastRow, temperature).ToArray();
    }

    /// <summary>The next-character distribution after <paramref name="prefix"/>, fed one character at a time with the state carried.</summary>
    internal static float[] NextDistributionCarried(RnnCharModel model, ReadOnlySpan<int> prefix, float temperature)
    {
        ArgumentNullException.ThrowIfNull(model);
        var device = model.Device;
        using var state = model.Rnn.NewState(device, 1);
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
