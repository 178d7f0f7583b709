namespace Tensorlet.Nn;

/// <summary>
/// The biases of a cell whose input and recurrent projections add into one preactivation (<see cref="Lstm"/>,
/// <see cref="Rnn"/>): b_ih + b_hh summed once per Forward, so that the [T·B, G·H] input projection takes one bias
/// pass instead of two, and in Backward the one column sum of d(pre) that is the gradient of both biases.
/// </summary>
internal sealed class SharedGateBias : IDisposable
{
    private readonly Workspace combined = new();
    private readonly Workspace gradientSum = new();
    private Tensor? biasIhGradientRow;
    private Tensor? biasHhGradientRow;

    /// <summary>b_ih + b_hh [1, G·H], as the last <see cref="Combine"/> summed it.</summary>
    public Tensor? Bias { get; private set; }

    /// <summary>Whether the last Backward's recurrence left the column sum of d(pre) in <see cref="Gradient"/>.</summary>
    public bool GradientSummed { get; set; }

    /// <summary>Sums the layer's b_ih + b_hh into <see cref="Bias"/> and returns it.</summary>
    public Tensor Combine(RnnLayer layer)
    {
        var biasIh = layer.BiasIh.Value;
        Bias = combined.Get(biasIh.Device, 1, (int)biasIh.Length);
        Ops.Copy(biasIh, Bias);
        Ops.AddBias(Bias, layer.BiasHh.Value);
        return Bias;
    }

    /// <summary>The column sum of d(pre) [1, <paramref name="columns"/>]: the gradient of b_ih and of b_hh.</summary>
    public Tensor Gradient(Device device, int columns) => gradientSum.Get(device, 1, columns);

    /// <summary>
    /// Adds the column sum of d(pre) [T·B, G·H] to both bias gradients of the layer; it takes a pass over d(pre) unless
    /// the recurrence summed it already (<see cref="GradientSummed"/>).
    /// </summary>
    public void AddGradients(RnnLayer layer, Tensor dPre)
    {
        var sum = Gradient(dPre.Device, dPre.Columns);
        if (!GradientSummed)
        {
            Ops.SumColumns(dPre, sum);
        }

        Ops.AddBias(biasIhGradientRow ??= layer.BiasIh.Gradient.Reshape(1, dPre.Columns), sum);
        Ops.AddBias(biasHhGradientRow ??= layer.BiasHh.Gradient.Reshape(1, dPre.Columns), sum);
    }

    public void Dispose()
    {
        combined.Dispose();
        gradientSum.Dispose();
    }
}
