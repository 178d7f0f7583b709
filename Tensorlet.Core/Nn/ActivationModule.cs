using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// An elementwise activation as a module (<see cref="Relu"/>, <see cref="Tanh"/>, <see cref="Sigmoid"/>, <see cref="Gelu"/>): y = f(x)
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

    /// <summary>The module for <paramref name="function"/>: a new <see cref="Relu"/>, <see cref="Tanh"/>, <see cref="Sigmoid"/> or <see cref="Gelu"/>.</summary>
    internal static ActivationModule Create(Activation function) => function switch
    {
        Activation.Relu => new Relu(),
        Activation.Tanh => new Tanh(),
        Activation.Sigmoid => new Sigmoid(),
        Activation.Gelu => new Gelu(),
        Activation.GeluTanh => new Gelu(GeluApproximation.Tanh),
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation."),
    };

    /// <summary>The function.</summary>
    public Activation Function { get; }

    /// <summary>y = f(x), shaped as x.</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        var y = output.Get(input.Device, input.Rows, input.Columns);
        Ops.ActivationForward(Function, input, y);
        savedInput = input;
        savedOutput = y;
        return LastOutput = input.Rank == 2 ? y : outputShaped.Like(y, input, input.Shape[^1]);
    }

    /// <summary>dx = dy·f′(x), written into <paramref name="outputGradient"/> and returned.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        Ops.ActivationBackward(Function, savedInput!, savedOutput!, outputGradient, outputGradient);
        return outputGradient;
    }

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
        _ => throw new ArgumentOutOfRangeException(nameof(approximate), approximate, "GELU's approximation is None or Tanh, as nn.GELU's approximate is 'none' or 'tanh'."),
    };
}
