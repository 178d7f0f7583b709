using System.Globalization;
using Tensorlet.Nn;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// The two models --model picks, made of library modules only, and their sizes: what the command line refuses, what a
/// batch's largest tensors hold, and what RunMemory counts.
/// <list type="bullet">
/// <item>lstm: characters [T, B] → Embedding [T, B, E] → LSTM [T, B, H] → last step [1, B, H] → Linear [1, B, classes].</item>
/// <item>cnn (a small char-CNN, after Zhang, Zhao and LeCun 2015): characters [T, B] → Embedding [T, B, E] → Permute
/// [B, E, T] → Conv1d(E, C, 7, padding 3) → ReLU → MaxPool1d(3) [B, C, T/3] → Conv1d(C, C, 5, padding 2) → ReLU →
/// AdaptiveMaxPool1d(1) [B, C, 1] → Flatten [B, C] → Dropout(0.5) → Linear [B, classes].</item>
/// </list>
/// In both, the padding in front of a short post embeds to a zero row that training leaves at zero, as nn.Embedding's
/// padding_idx.
/// </summary>
internal static class ClassifierModels
{
    /// <summary>The values --model accepts.</summary>
    public static readonly string[] Names = [Lstm, Cnn];

    /// <summary>The recurrent model, which --hidden sizes.</summary>
    public const string Lstm = "lstm";

    /// <summary>The convolutional model, which --channels sizes.</summary>
    public const string Cnn = "cnn";

    /// <summary>The fewest characters the CNN reads: its MaxPool1d(3) needs a window of three positions.</summary>
    public const int CnnMinChars = PoolSize;

    // The CNN's kernel sizes (each padded to keep the length), its pooling and its dropout.
    private const int FirstKernel = 7;
    private const int SecondKernel = 5;
    private const int PoolSize = 3;
    private const float DropoutProbability = 0.5f;

    // The most classes a run can have: the 20 newsgroups.
    private const int MaxClasses = 20;

    /// <summary>The option that sizes <paramref name="model"/>: --hidden for the LSTM, --channels for the CNN.</summary>
    public static string WidthOption(string model) => model == Cnn ? "--channels" : "--hidden";

    /// <summary>The model for <paramref name="options"/>, not yet built, and a line that describes it.</summary>
    public static (Sequential Model, string Description) Create(ClassifierOptions options, int classes)
    {
        var embedding = new Embedding(PostCleaning.VocabularySize, options.Embedding, paddingIdx: PostCleaning.PaddingId);
        string embedded = string.Create(CultureInfo.InvariantCulture, $"Embedding({PostCleaning.VocabularySize}, {options.Embedding}, padding_idx={embedding.PaddingIdx})");
        if (options.Model == Lstm)
        {
            return (
                new Sequential(embedding, new Lstm(options.Embedding, options.Hidden), new Slice(start: -1, count: 1), new Linear(options.Hidden, classes)),
                string.Create(CultureInfo.InvariantCulture, $"{embedded} → LSTM({options.Hidden}) → last step → Linear({classes})"));
        }

        int c = options.Channels;
        return (
            new Sequential(
                embedding,
                new Permute(1, 2, 0),
                new Conv1d(options.Embedding, c, FirstKernel, padding: FirstKernel / 2),
                new Relu(),
                new MaxPool1d(PoolSize),
                new Conv1d(c, c, SecondKernel, padding: SecondKernel / 2),
                new Relu(),
                new AdaptiveMaxPool1d(1),
                new Flatten(),
                new Dropout(DropoutProbability),
                new Linear(c, classes)),
            string.Create(CultureInfo.InvariantCulture,
                $"{embedded} → Conv1d({options.Embedding}, {c}, {FirstKernel}) → ReLU → MaxPool1d({PoolSize}) → Conv1d({c}, {c}, {SecondKernel}) → ReLU → global max → Dropout({DropoutProbability}) → Linear({classes})"));
    }

    /// <summary>
    /// Why the model's weights cannot be made whatever the corpus: one weight, or all of them together, which share
    /// one buffer of parameters, hold more values than one tensor can (the library refuses them only when the model is
    /// built). <paramref name="width"/> is --hidden for the LSTM, --channels for the CNN. Null when they fit. A
    /// command-line error (exit code 2), checked when the options are parsed. Computed in doubles, which no option can overflow.
    /// </summary>
    public static string? WeightsError(string model, int width, int embedding)
    {
        string sizes = $"{WidthOption(model)} {width} and --embedding {embedding}";
        (string What, double Values)[] weights = model == Lstm
            ?
            [
                ($"The LSTM's weights for {sizes}", 4.0 * width * Math.Max(width, embedding)),
                ($"The embedding's weights for --embedding {embedding}", (double)PostCleaning.VocabularySize * embedding),
                ($"The model's parameters for {sizes}, which share one buffer,", Parameters(model, width, embedding, MaxClasses)),
            ]
            :
            [
                ($"The convolutions' weights for {sizes}", (double)width * Math.Max(FirstKernel * (double)embedding, SecondKernel * (double)width)),
                ($"The embedding's weights for --embedding {embedding}", (double)PostCleaning.VocabularySize * embedding),
                ($"The model's parameters for {sizes}, which share one buffer,", Parameters(model, width, embedding, MaxClasses)),
            ];
        return weights.Where(w => w.Values > Array.MaxLength)
            .Select(w => TooLarge(w.What, w.Values, Array.MaxLength, $"{WidthOption(model)} or --embedding")).FirstOrDefault();
    }

    /// <summary>
    /// Refuses, before anything is allocated, a batch whose largest tensors hold more values than a tensor's int length
    /// can count: the LSTM's gates for every step, [T·B, 4H], or the CNN's unfolded inputs, [B·T, 7E] and [B·T/3, 5C],
    /// and its first convolution's output, [B, C, T]; and the embedded batch, [T·B, E]. The batch is at most the posts
    /// there are, so this depends on the corpus and is checked once it is read (exit code 1). Whether the memory is
    /// there is RunMemory's estimate, and past it Program's OutOfMemoryException.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor of the batch would hold more than int.MaxValue values.</exception>
    public static void CheckBatch(ClassifierOptions options, int batch)
    {
        double rows = (double)options.MaxChars * batch;
        string posts = $"a batch of {batch} posts of {options.MaxChars} characters";
        string embedded = $"{posts} embedded with --embedding {options.Embedding}";
        (string What, double Values)[] tensors = options.Model == Lstm
            ?
            [
                ($"The LSTM's gates for {posts} with --hidden {options.Hidden}", rows * 4.0 * options.Hidden),
                ($"{Capital(embedded)}", rows * options.Embedding),
            ]
            :
            [
                ($"The first convolution's unfolded input for {embedded}", rows * FirstKernel * options.Embedding),
                ($"The first convolution's output for {posts} with --channels {options.Channels}", rows * options.Channels),
                ($"The second convolution's unfolded input for {posts} with --channels {options.Channels}", Math.Floor((double)options.MaxChars / PoolSize) * batch * SecondKernel * options.Channels),
            ];
        foreach (var (what, values) in tensors)
        {
            if (values > int.MaxValue)
            {
                throw new ArgumentException(TooLarge(what, values, int.MaxValue, $"--batch, {WidthOption(options.Model)}, --embedding or --max-chars"));
            }
        }
    }

    /// <summary>The model's parameters for <paramref name="classes"/> classes (weights and biases, the embedding's included).</summary>
    public static double Parameters(string model, int width, int embedding, int classes)
    {
        double e = embedding, w = width, vocabulary = PostCleaning.VocabularySize;
        double head = (w + 1) * classes;
        return model == Lstm
            ? (vocabulary * e) + (4 * w * (e + w + 2)) + head
            : (vocabulary * e) + (w * ((FirstKernel * e) + 1)) + (w * ((SecondKernel * w) + 1)) + head;
    }

    /// <summary>
    /// Floats per character of a batch that the model keeps for its backward pass, counted generously (the embedded
    /// character and its gradient throughout):
    /// <list type="bullet">
    /// <item>the LSTM's four gates, its cell and hidden states and their gradients: about 3 × E + 10 × H;</item>
    /// <item>the CNN's permuted embedding, its copy and its gradient (3 × E), the first convolution's unfolded input and
    /// its gradient (7 × E each), input gradient (E), output rows, output and their gradient (3 × C), the ReLU's output
    /// (C), the pooling's output, indices and input gradient (under 2 × C), and per pooled character (a third) the second
    /// convolution's unfolded input and its gradient (5 × C each) and its rows, output, gradient, input gradient and ReLU
    /// (5 × C): at most 19 × E + 11 × C, counted as 20 × E + 12 × C.</item>
    /// </list>
    /// </summary>
    public static double ActivationFloatsPerCharacter(ClassifierOptions options)
        => options.Model == Lstm ? (3.0 * options.Embedding) + (10.0 * options.Hidden) : (20.0 * options.Embedding) + (12.0 * options.Channels);

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string TooLarge(string what, double values, long limit, string options) => string.Create(CultureInfo.InvariantCulture,
        $"{what} are {values:N0} values; one tensor holds at most {limit:N0}. Use a smaller {options}.");
}
