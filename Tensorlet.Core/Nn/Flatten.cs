namespace Tensorlet.Nn;

/// <summary>
/// nn.Flatten() (start_dim 1, end_dim −1): x [N, d1, d2, ...] → [N, d1·d2·...], a view of the input with no copy, and
/// Backward gives dy back as a view shaped as the input. It takes a convolution's [N, C, L] to the [N, C·L] rows a
/// <see cref="Linear"/> reads, channel-major as in PyTorch (element c·L + l). Other start and end dimensions are not offered.
/// </summary>
public sealed class Flatten : Module
{
    private readonly ShapeView flat = new();
    private readonly ShapeView inputGradientShaped = new();
    private Tensor? savedInput;

    /// <summary>x [N, ...] as [N, the product of the rest].</summary>
    /// <exception cref="ArgumentException">The input has rank 1: there is no dimension 1 to start from.</exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Rank < 2)
        {
            throw new ArgumentException($"Flatten flattens the dimensions from 1 on of [N, ...] but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        savedInput = input;
        return LastOutput = input.Rank == 2 ? input : flat.Matrix(input, input.Rows, input.Columns);
    }

    /// <summary>dx = dy shaped as the input (a view of dy).</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        return x.Rank == 2 ? outputGradient : inputGradientShaped.Like(outputGradient, x, x.Shape[^1]);
    }
}
