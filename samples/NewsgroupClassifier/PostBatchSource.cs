using Tensorlet.Models.Training;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// Classification examples for the Trainer: each post is a window of character ids (see
/// <see cref="PostCleaning.Encode"/>) and one target, its group. Inputs are time-major: row t·B + b.
/// </summary>
internal sealed class PostBatchSource : IBatchSource
{
    private readonly int[] windows;
    private readonly int[] labels;

    /// <summary>Encodes <paramref name="posts"/> into windows of <paramref name="steps"/> ids.</summary>
    public PostBatchSource(IReadOnlyList<CleanedPost> posts, int steps)
    {
        InputsPerExample = steps;
        windows = new int[posts.Count * steps];
        labels = new int[posts.Count];
        for (int i = 0; i < posts.Count; i++)
        {
            PostCleaning.Encode(posts[i].Text, windows.AsSpan(i * steps, steps));
            labels[i] = posts[i].Label;
        }
    }

    /// <inheritdoc/>
    public int Count => labels.Length;

    /// <inheritdoc/>
    public int RowsPerExample => 1;

    /// <inheritdoc/>
    public int InputsPerExample { get; }

    /// <summary>The group of example <paramref name="index"/>.</summary>
    public int Label(int index) => labels[index];

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        int batch = examples.Length;
        int steps = InputsPerExample;
        for (int b = 0; b < batch; b++)
        {
            var window = windows.AsSpan(examples[b] * steps, steps);
            for (int t = 0; t < steps; t++)
            {
                inputs[(t * batch) + b] = window[t];
            }

            targets[b] = labels[examples[b]];
            positions[b] = steps;
        }
    }
}
