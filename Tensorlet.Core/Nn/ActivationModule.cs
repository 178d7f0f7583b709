using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// An elementwise activation as a module (<see cref="Relu"/>, <see cref="Tanh"/>, <see cref="Sigmoid"/>, <see cref="Gelu"/>,
/// <see cref="Silu"/>, <see cref="LeakyRelu"/>): y = f(x)
/// into a buffer it owns; Backward computes dx = dy·f′ in place in dy, from the input and output it keeps (the input
/// by reference: it is the previous module's output, or the caller's tensor, which must stay alive until Backward).
/// </summary>
public abstract class ActivationModule : Module
{
    private readonly Workspace output = new();
    private readonly ShapeView outputShaped = new();
    private Tensor? savedInput;
    private Tensor? savedOutput;

    private protected ActivationModule(Activation function)
    {
        Function = function;
    }

    /// <summary>
    /// The module for <paramref name="function"/>: a new <see cref="Relu"/>, <see cref="Tanh"/>, <see cref="Sigmoid"/>,
    /// <see cref="Gelu"/>, <see cref="Silu"/> or <see cref="LeakyRelu"/> (with nn.LeakyReLU's default slope, 0.01).
    /// </summary>
    internal static ActivationModule Create(Activation function) => function switch
    {
        Activation.Relu => new Relu(),
        Activation.Tanh => new Tanh(),
        Activation.Sigmoid => new Sigmoid(),
        Activation.Gelu => new Gelu(),
        Activation.GeluTanh => new Gelu(GeluApproximation.Tanh),
        Activation.Silu => new Silu(),
        Activation.LeakyRelu => new LeakyRelu(),
        _ => throw new ArgumentOutOfRangeException(nameof(function), $"Unknown activation {function}."),
    };

    /// <summary>The function.</summary>
    public Activation Function { get; }

    /// <summary>y = f(x), shaped as x.</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var y = output.Get(input.Device, input.Rows, input.Columns);
        ApplyForward(input, y);
        savedInput = input;
        savedOutput = y;
        return LastOutput = input.Rank == 2 ? y : outputShaped.Like(y, input, input.Shape[^1]);
    }

    /// <summary>dx = dy·f′(x), written into <paramref name="outputGradient"/> and returned.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        ApplyBackward(savedInput!, savedOutput!, outputGradient);
        return outputGradient;
    }

    /// <summary>y = f(x), through the activation op its function has.</summary>
    private protected virtual void ApplyForward(Tensor x, Tensor y) => Ops.ActivationForward(Function, x, y);

    /// <summary>dy·f′(x) into dy, from the forward's input x and output y.</summary>
    private protected virtual void ApplyBackward(Tensor x, Tensor y, Tensor dy) => Ops.ActivationBackward(Function, x, y, dy, dy);

    /// <inheritdoc/>
    protected override void DisposeBuffers() => output.Dispose();
}

/// <summary>nn.ReLU: max(0, x).</summary>
public sealed class Relu() : ActivationModule(Activation.Relu);

/// <summary>nn.Tanh.</summary>
public sealed class Tanh() : ActivationModule(Activation.Tanh);

/// <summary>nn.Sigmoid: 1 / (1 + e^−x).</summary>
public sealed class Sigmoid() : ActivationModule(Activation.Sigmoid);

/// <summary>
/// nn.GELU: x·Φ(x), with Φ the standard normal's distribution function, exactly (<see cref="GeluApproximation.None"/>,
/// PyTorch's default) or in its tanh approximation (<see cref="GeluApproximation.Tanh"/>). Its Backward reads the
/// input it kept from Forward.
/// </summary>
/// <param name="approximate">Which form, as nn.GELU's <c>approximate</c>: <c>'none'</c> or <c>'tanh'</c>.</param>
public sealed class Gelu(GeluApproximation approximate = GeluApproximation.None) : ActivationModule(FunctionOf(approximate))
{
    /// <summary>Which form this computes.</summary>
    public GeluApproximation Approximate { get; } = approximate;

    private static Activation FunctionOf(GeluApproximation approximate) => approximate switch
    {
        GeluApproximation.None => Activation.Gelu,
        GeluApproximation.Tanh => Activation.GeluTanh,
        _ => throw new ArgumentOutOfRangeException(nameof(approximate), $"GELU's approximation is None or Tanh, as nn.GELU's approximate is 'none' or 'tanh'; got {approximate}."),
    };
}

/// <summary>nn.SiLU: x·σ(x) = x / (1 + e^−x), also called swish. Its Backward reads the input it kept from Forward.</summary>
public sealed class Silu() : ActivationModule(Activation.Silu);

/// <summary>
/// nn.LeakyReLU: x for x &gt; 0, else <see cref="NegativeSlope"/>·x; its gradient is 1 for x &gt; 0, else the slope (at
/// x = 0 too, as PyTorch's). Its Backward reads the input it kept from Forward.
/// </summary>
public sealed class LeakyRelu : ActivationModule
{
    /// <summary>A leaky ReLU of slope <paramref name="negativeSlope"/> below 0.</summary>
    /// <param name="negativeSlope">
    /// nn.LeakyReLU's <c>negative_slope</c>: any float, as PyTorch takes (negative, zero, above 1 or infinite), but NaN.
    /// </param>
    /// <exception cref="ArgumentException">The slope is NaN.</exception>
    public LeakyRelu(float negativeSlope = 0.01f)
        : base(Activation.LeakyRelu)
    {
        Ops.CheckNegativeSlope(nameof(LeakyRelu), negativeSlope);
        NegativeSlope = negativeSlope;
    }

    /// <summary>The slope below 0.</summary>
    public float NegativeSlope { get; }

    private protected override void ApplyForward(Tensor x, Tensor y) => Ops.LeakyReluForward(x, y, NegativeSlope);

    // In place (x is y), y's sign is x's for a slope of 0 or more, so y stands for x; a negative slope flips it, and
    // the gradient would be taken on the wrong side, so that is refused, as PyTorch's in-place LeakyReLU refuses it.
    private protected override void ApplyBackward(Tensor x, Tensor y, Tensor dy)
    {
        if (NegativeSlope < 0 && ReferenceEquals(x.Storage, y.Storage) && x.Offset == y.Offset)
        {
            throw new ArgumentException($"The LeakyRelu backward with a negative slope ({NegativeSlope}) reads the forward's input x, but x is its output y: run its forward out of place.", nameof(x));
        }

        Ops.LeakyReluBackward(x, dy, dy, NegativeSlope);
    }
}
