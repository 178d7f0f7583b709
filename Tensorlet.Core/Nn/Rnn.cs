using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A multi-layer Elman RNN with the semantics of nn.RNN(input, hidden, layers, nonlinearity=…, dropout=p,
/// batch_first=…, bidirectional=…): PyTorch's parameter names and layout (<c>weight_ih_l{k}</c> [H, In],
/// <c>weight_hh_l{k}</c> [H, H], <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> [H]), the cell
/// h' = act(W_ih·x + b_ih + W_hh·h + b_hh) with act tanh or relu (<see cref="RnnNonlinearity"/>), and dropout on every
/// layer's output but the last, in training only. The stack, the state handling and the input and weight GEMMs are
/// <see cref="RnnBase"/>'s; this class is the cell: per step one recurrent GEMM into the step's preactivations and the
/// activation into h, and in reverse the activation's backward over the saved preactivations. Where the device fuses
/// the whole sequence (the cpu) all steps run in one call, and two stacked layers as one wavefront, as the
/// <see cref="Lstm"/>'s and the <see cref="Gru"/>'s do, to the same floats as its steps one by one (but for the bias
/// gradient, summed in an order of its own as each step is written); elsewhere step by step.
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]; with batchFirst, [B, T, In] (or [B, T]) and [B, T, H]; with bidirectional,
/// [.., 2H], each step's forward h then its reverse h. It starts from <see cref="InitialState"/> (zeros when null) or, with
/// <see cref="RnnBase.CarryState"/>, from the previous batch's final state, and leaves the final h in
/// <see cref="FinalState"/>: [B, H] per layer, as [layers, B, H]; [2·layers, B, H] when bidirectional.
/// </para>
/// </summary>
public sealed partial class Rnn : RnnBase
{
    private readonly SharedGateBias[] biases;
    private readonly Activation activation;

    /// <summary>Creates the RNN; its parameters (<c>weight_ih_l0</c> etc.) are made when the root module is built.</summary>
    /// <param name="inputSize">Input features; for one-hot input, the vocabulary size.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="nonlinearity">The cell's activation, tanh (PyTorch's default) or relu.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last, in training.</param>
    /// <param name="batchFirst">Take [B, T, In] (token indices [B, T]) and return [B, T, H], as PyTorch's batch_first=True; time-major [T, B, In] → [T, B, H] when false.</param>
    /// <param name="bidirectional">Run every layer over the sequence in both directions, as PyTorch's bidirectional=True: the output is [.., 2H] and the states [2·layers, B, H] (see <see cref="RnnBase.Bidirectional"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nonlinearity"/> is not a defined <see cref="RnnNonlinearity"/>, or a size or the dropout is out of range.</exception>
    public Rnn(int inputSize, int hiddenSize, int numLayers = 1, RnnNonlinearity nonlinearity = RnnNonlinearity.Tanh, float dropout = 0f, bool batchFirst = false, bool bidirectional = false)
        : base("RNN", 1, inputSize, hiddenSize, numLayers, dropout, batchFirst, bidirectional)
    {
        activation = nonlinearity switch
        {
            RnnNonlinearity.Tanh => Activation.Tanh,
            RnnNonlinearity.Relu => Activation.Relu,
            _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), $"The RNN nonlinearity must be Tanh or Relu; got {nonlinearity}."),
        };
        Nonlinearity = nonlinearity;
        biases = [.. Enumerable.Range(0, StateLayers).Select(_ => new SharedGateBias())];
    }

    /// <summary>The cell's activation.</summary>
    public RnnNonlinearity Nonlinearity { get; }

    /// <summary>
    /// The h the next Forward starts from, copied at its start; zeros when null. Ignored while
    /// <see cref="RnnBase.CarryState"/> has a state to carry. It may be <see cref="FinalState"/> as read after the last
    /// Forward; a FinalState that a later Forward has overwritten is refused (<see cref="RnnHiddenState.Clone"/> keeps one).
    /// </summary>
    public RnnHiddenState? InitialState
    {
        get => (RnnHiddenState?)Initial;
        set => Initial = value;
    }

    /// <summary>
    /// The h after the last step of the last Forward, in the module's buffers: valid until the next Forward, which
    /// overwrites it whatever its batch size; null before the first. Keep it past the next Forward with
    /// <see cref="RnnHiddenState.Clone"/>; once overwritten it is refused as every recurrent module's FinalState is
    /// (see <see cref="RnnState"/> and <see cref="Gru.FinalState"/>).
    /// </summary>
    public RnnHiddenState? FinalState => (RnnHiddenState?)Final;

    /// <summary>Makes a zero h state for <paramref name="batch"/> sequences.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is below 1.</exception>
    public RnnHiddenState CreateState(Device device, int batch) => new(device, StateLayers, batch, HiddenSize);

    private protected override RnnState NewState(Device device, int batch) => CreateState(device, batch);

    private protected override Type StateKind => typeof(RnnHiddenState);

    private protected override void PrepareCells(int k, RnnLayer layer, RnnState? initialState, int steps, int batch)
        => biases[k].Combine(layer);

    // b_ih + b_hh, combined in PrepareCells.
    private protected override Tensor InputBias(int k, RnnLayer layer) => biases[k].Bias!;

    private protected override void ForwardCells(int k, RnnLayer layer, int steps, int batch)
    {
        // Per step: the recurrent GEMM into the step's preactivations, then h = act(pre) beside them; the
        // preactivations stay, for Backward to write d(pre) over. All steps in one call where the device fuses them
        // (the cpu), step by step otherwise.
        var weightHh = layer.WeightHh.Value;
        if (!Ops.TryRnnRecurrenceForward(layer.GatesAll!, layer.HiddenAll!, layer.InitialHidden!, layer.HasInitialHidden, weightHh, activation, steps, batch))
        {
            var gateSteps = layer.GateSteps!;
            var hiddenSteps = layer.HiddenSteps!;
            for (int t = 0; t < steps; t++)
            {
                if (t > 0 || layer.HasInitialHidden)
                {
                    Ops.Gemm(t > 0 ? hiddenSteps[t - 1] : layer.InitialHidden!, false, weightHh, true, gateSteps[t], 1f, 1f);
                }

                Ops.ActivationForward(activation, gateSteps[t], hiddenSteps[t]);
            }
        }
    }

    private protected override (Tensor InputProjection, Tensor RecurrentProjection) BackwardCells(int k, RnnLayer layer, Tensor dH, Tensor[] dHSteps, int steps, int batch)
    {
        // d(pre) = dh ⊙ act'(h) goes over the saved preactivations, step by step as the cell reads them (see
        // RnnBase.BackwardSequence); tanh' and relu' are read from h, so the preactivation is not needed again.
        var dPreAll = layer.GatesAll!;
        var dPreSteps = layer.GateSteps!;
        var weightHh = layer.WeightHh.Value;
        var bias = biases[k];
        bias.GradientSummed = Ops.TryRnnRecurrenceBackward(layer.HiddenAll!, dH, dPreAll, bias.Gradient(dH.Device, HiddenSize), weightHh, activation, steps, batch);
        if (!bias.GradientSummed)
        {
            for (int t = steps - 1; t >= 0; t--)
            {
                if (t < steps - 1)
                {
                    // dh_t += d(pre_{t+1})·W_hh: the recurrent contribution.
                    Ops.Gemm(dPreSteps[t + 1], false, weightHh, false, dHSteps[t], 1f, 1f);
                }

                Ops.ActivationBackward(activation, dPreSteps[t], layer.HiddenSteps![t], dHSteps[t], dPreSteps[t]);
            }
        }

        // The input and the recurrent projections share the preactivations, so they share their gradient.
        return (dPreAll, dPreAll);
    }

    // Both biases get the same gradient: the [H] column sum of d(pre), added to each.
    private protected override void AddBiasGradients(int k, RnnLayer layer, Tensor dInputProjection, Tensor dRecurrentProjection)
        => biases[k].AddGradients(layer, dInputProjection);

    private protected override void DisposeCellBuffers()
    {
        foreach (var b in biases)
        {
            b.Dispose();
        }
    }
}
