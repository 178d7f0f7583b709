using System.Globalization;
using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.LayerNorm over the last dimension (normalized_shape an int D): each row of D features becomes
/// (x − mean)/√(var + ε)·weight + bias, with the mean and the biased variance of that row, for input of any rank (the
/// leading dimensions are the rows; y has the input's shape). <c>weight</c> [D] starts at ones and <c>bias</c> [D] at
/// zeros, as in PyTorch. Made with <c>bias: false</c> (torch 2.1's bias=False) it has no <c>bias</c>; with
/// <c>elementwiseAffine: false</c> it has no parameters at all.
/// </summary>
public sealed class LayerNorm : Module
{
    private readonly Workspace output = new();
    private readonly Workspace mean = new();
    private readonly Workspace rstd = new();
    private readonly Workspace inputGradient = new();
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly bool hasBias;
    private Parameter? weight;
    private Parameter? bias;
    private Tensor? savedInput;
    private Tensor? savedInputShaped;
    private Tensor? savedMean;
    private Tensor? savedRstd;

    /// <summary>Creates the layer; its parameters are made when the root module is built.</summary>
    /// <param name="normalizedShape">D, the size of the last dimension, which is normalized.</param>
    /// <param name="epsilon">ε, added to the variance (nn.LayerNorm's <c>eps</c>).</param>
    /// <param name="elementwiseAffine">Whether the layer has <c>weight</c> (and <c>bias</c>), as nn.LayerNorm's <c>elementwise_affine</c>.</param>
    /// <param name="bias">Whether an affine layer has <c>bias</c>, as nn.LayerNorm's <c>bias</c> (torch 2.1 and later).</param>
    /// <exception cref="ArgumentOutOfRangeException">D is not positive, or ε is negative or not finite.</exception>
    public LayerNorm(int normalizedShape, float epsilon = 1e-5f, bool elementwiseAffine = true, bool bias = true)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(normalizedShape);
        if (!(epsilon >= 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), string.Create(CultureInfo.InvariantCulture, $"LayerNorm's epsilon must be a finite number ≥ 0; got {epsilon}."));
        }

        NormalizedShape = normalizedShape;
        Epsilon = epsilon;
        ElementwiseAffine = elementwiseAffine;
        hasBias = elementwiseAffine && bias;
    }

    /// <summary>D, the size of the normalized last dimension.</summary>
    public int NormalizedShape { get; }

    /// <summary>ε, added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>Whether the layer has <c>weight</c> (and, unless made with <c>bias: false</c>, <c>bias</c>).</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>The weight [D]; null for a layer made with <c>elementwiseAffine: false</c>.</summary>
    public Parameter? Weight => ElementwiseAffine ? weight ?? throw NotBuiltError() : null;

    /// <summary>The bias [D]; null for a layer made with <c>bias: false</c> or <c>elementwiseAffine: false</c>.</summary>
    public Parameter? Bias => hasBias ? bias ?? throw NotBuiltError() : null;

    /// <summary>y [..., D] = (x − mean)/√(var + ε)·weight + bias over each row of D.</summary>
    /// <exception cref="ArgumentException">The input's last dimension is not D.</exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Shape[^1] != NormalizedShape)
        {
            throw new ArgumentException($"LayerNorm({NormalizedShape}) normalizes a last dimension of {NormalizedShape} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        int rows = ShapeView.RowsByLast(input);
        var x = input.Rank == 2 ? input : inputMatrix.Matrix(input, rows, NormalizedShape);
        var y = output.Get(input.Device, rows, NormalizedShape);
        var m = mean.Get(input.Device, rows, 1);
        var s = rstd.Get(input.Device, rows, 1);
        Ops.LayerNormForward(x, Weight?.Value, Bias?.Value, Epsilon, y, m, s);
        savedInput = x;
        savedInputShaped = input;
        savedMean = m;
        savedRstd = s;
        return LastOutput = input.Rank == 2 ? y : outputShaped.Like(y, input, NormalizedShape);
    }

    /// <summary>Accumulates dweight += Σ dy·x̂ and dbias += Σ dy over the rows, and returns dx, shaped as the input.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, x.Rows, NormalizedShape);
        var dx = inputGradient.Get(x.Device, x.Rows, NormalizedShape);
        var w = Weight;
        var b = Bias;
        Ops.LayerNormBackward(x, savedMean!, savedRstd!, w?.Value, dy, dx, w?.Gradient, b?.Gradient);
        return savedInputShaped!.Rank == 2 ? dx : inputGradientShaped.Like(dx, savedInputShaped, NormalizedShape);
    }

    /// <summary>Registers <c>weight</c> [D] (ones) and <c>bias</c> [D] (zeros), those the layer has.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (ElementwiseAffine)
        {
            weight = parameters.Add(JoinName(prefix, "weight"), [NormalizedShape], _ => 1f);
        }

        if (hasBias)
        {
            bias = parameters.Add(JoinName(prefix, "bias"), [NormalizedShape], _ => 0f);
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        mean.Dispose();
        rstd.Dispose();
        inputGradient.Dispose();
    }
}
