namespace Tensorlet.Nn;

/// <summary>
/// A softmax over the last dimension as a module (<see cref="Softmax"/>, <see cref="LogSoftmax"/>), as PyTorch's with
/// <c>dim=-1</c>: each row of the input [..., C] (every leading dimension a row) is shifted by its maximum before exp,
/// into a buffer the module owns and shaped as the input. Backward reads only the output it keeps, and writes dx in
/// place in dy.
/// </summary>
public abstract class SoftmaxModule : Module
{
    private readonly Workspace output = new();
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private Tensor? savedOutput;

    private protected SoftmaxModule()
    {
    }

    /// <summary>y [..., C], the function of each row of the input.</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        int classes = input.Shape[^1];
        int rows = ShapeView.RowsByLast(input);
        var x = input.Rank == 2 ? input : inputMatrix.Matrix(input, rows, classes);
        var y = output.Get(input.Device, rows, classes);
        RowForward(x, y);
        savedOutput = y;
        return LastOutput = input.Rank == 2 ? y : outputShaped.Like(y, input, classes);
    }

    /// <summary>dx, written into <paramref name="outputGradient"/> and returned.</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var y = savedOutput!;
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, y.Rows, y.Columns);
        RowBackward(y, dy);
        return outputGradient;
    }

    /// <summary>y = the function of each row of x [N, C].</summary>
    private protected abstract void RowForward(Tensor x, Tensor y);

    /// <summary>dy = dL/dx from the output y [N, C], in place.</summary>
    private protected abstract void RowBackward(Tensor y, Tensor dy);

    /// <inheritdoc/>
    protected override void DisposeBuffers() => output.Dispose();
}

/// <summary>nn.Softmax(dim=-1): e^x / Σ e^x over the last dimension; its backward is dx = y ⊙ (dy − Σ dy⊙y).</summary>
public sealed class Softmax : SoftmaxModule
{
    private protected override void RowForward(Tensor x, Tensor y) => Ops.SoftmaxWithTemperature(x, y, 1f);

    private protected override void RowBackward(Tensor y, Tensor dy) => Ops.SoftmaxBackward(y, dy, dy);
}

/// <summary>
/// nn.LogSoftmax(dim=-1): x − log Σ e^x over the last dimension, the log-probabilities an <see cref="NllLoss"/> takes; its
/// backward is dx = dy − softmax(x)·Σ dy.
/// </summary>
public sealed class LogSoftmax : SoftmaxModule
{
    private protected override void RowForward(Tensor x, Tensor y) => Ops.LogSoftmax(x, y);

    private protected override void RowBackward(Tensor y, Tensor dy) => Ops.LogSoftmaxBackward(y, dy, dy);
}
