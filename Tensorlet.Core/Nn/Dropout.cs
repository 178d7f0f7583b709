using System.Globalization;

namespace Tensorlet.Nn;

/// <summary>
/// Inverted dropout (nn.Dropout). The mask comes from a counter-based generator keyed by (seed, stream), so Backward
/// recomputes it instead of storing it, and every device draws the same mask. As a module it is keyed by
/// <see cref="Module.SetRandomState"/> and its place in the tree, and draws a new mask on every training Forward.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Workspace output = new();
    private readonly ShapeView outputShaped = new();
    private ulong moduleSeed;
    private ulong moduleStream;
    private ulong salt;
    private ulong seed;
    private ulong stream;
    private bool applied;

    /// <summary>Creates a dropout with drop probability <paramref name="probability"/> in [0, 1).</summary>
    public Dropout(float probability)
    {
        if (!(probability >= 0f && probability < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {probability}."));
        }

        Probability = probability;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public float Probability { get; }

    /// <summary>
    /// In training, x with elements zeroed with probability p and the rest scaled by 1/(1−p); otherwise x's values. As
    /// every module's output, the result is the module's: when it is x's values, a view of x, so that disposing it (a
    /// <c>using</c> on a model's output) leaves the caller's x alone.
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var y = Forward(input, Training, moduleSeed ^ salt, moduleStream);
        moduleStream++;
        return LastOutput = input.Rank == 2 && !ReferenceEquals(y, input) ? y : outputShaped.Like(y, input, input.Shape[^1]);
    }

    /// <summary>Applies the same mask to the gradient, in place, and returns it.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        if (applied)
        {
            Ops.Dropout(outputGradient, outputGradient, Probability, seed, stream);
        }

        return outputGradient;
    }

    /// <summary>The layer form: the mask keyed by (<paramref name="seed"/>, <paramref name="stream"/>); x itself when not <paramref name="training"/>.</summary>
    internal Tensor Forward(Tensor x, bool training, ulong seed, ulong stream)
    {
        var y = Target(x, training, seed, stream);
        if (!ReferenceEquals(y, x))
        {
            Ops.Dropout(x, y, Probability, seed, stream);
        }

        return y;
    }

    /// <summary>
    /// <see cref="Forward(Tensor, bool, ulong, ulong)"/> for a kernel that applies the mask itself: keeps the mask's key for
    /// Backward and returns the buffer the result belongs in (x itself when no mask applies), without computing it.
    /// </summary>
    internal Tensor Target(Tensor x, bool training, ulong seed, ulong stream)
    {
        applied = training && Probability > 0f;
        if (!applied)
        {
            return LastOutput = x;
        }

        this.seed = seed;
        this.stream = stream;
        return LastOutput = output.Get(x.Device, x.Rows, x.Columns);
    }

    /// <summary>The probability and key of the mask the last Forward applied; probability 0 when it applied none.</summary>
    internal (float Probability, ulong Seed, ulong Stream) AppliedMask => applied ? (Probability, seed, stream) : (0f, 0UL, 0UL);

    /// <inheritdoc/>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
        => salt = (ulong)(ordinal + 1) * 0x9E3779B97F4A7C15UL;

    /// <inheritdoc/>
    protected override void OnRandomState(ulong seed, ulong stream)
    {
        moduleSeed = seed;
        moduleStream = stream;
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => output.Dispose();
}
