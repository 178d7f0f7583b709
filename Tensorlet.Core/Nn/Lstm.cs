namespace Tensorlet.Nn;

/// <summary>
/// A multi-layer LSTM with the semantics of nn.LSTM(input, hidden, layers, dropout=p, batch_first=…, bidirectional=…): PyTorch's
/// parameter names and layout (<c>weight_ih_l{k}</c> [4H, In], <c>weight_hh_l{k}</c> [4H, H],
/// <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>), gate order i, f, g, o, and dropout on every layer's output
/// but the last, in training only. The stack, the state handling and the input and weight GEMMs are
/// <see cref="RnnBase"/>'s; this class is the cell: per step one recurrent GEMM into the step's preactivations and the
/// fused cell in place, and in reverse the fused cell backward.
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]; with batchFirst, [B, T, In] (or [B, T]) and [B, T, H]; with bidirectional,
/// [.., 2H], each step's forward h then its reverse h. It starts from <see cref="InitialState"/> (zeros when null) or, with
/// <see cref="RnnBase.CarryState"/>, from the previous batch's final state, and leaves the final (h, c) in
/// <see cref="FinalState"/>: [B, H] per layer, as [layers, B, H]; [2·layers, B, H] when bidirectional.
/// </para>
/// </summary>
public sealed partial class Lstm : RnnBase
{
    private readonly CellBuffers[] cells;
    private readonly Workspace cellGradient = new();

    /// <summary>Creates the LSTM; its parameters (<c>weight_ih_l0</c> etc.) are made when the root module is built.</summary>
    /// <param name="inputSize">Input features; for one-hot input, the vocabulary size.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last, in training.</param>
    /// <param name="batchFirst">Take [B, T, In] (token indices [B, T]) and return [B, T, H], as PyTorch's batch_first=True; time-major [T, B, In] → [T, B, H] when false.</param>
    /// <param name="bidirectional">Run every layer over the sequence in both directions, as PyTorch's bidirectional=True: the output is [.., 2H] and the states [2·layers, B, H] (see <see cref="RnnBase.Bidirectional"/>).</param>
    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, float dropout = 0f, bool batchFirst = false, bool bidirectional = false)
        : base("LSTM", 4, inputSize, hiddenSize, numLayers, dropout, batchFirst, bidirectional)
    {
        cells = [.. Enumerable.Range(0, StateLayers).Select(_ => new CellBuffers())];
    }

    /// <summary>The layer form: see <see cref="RnnBase.CreateParametersIn"/>.</summary>
    internal Lstm(ParameterCollection parameters, string prefix, int inputSize, int hiddenSize, int numLayers, float dropout)
        : this(inputSize, hiddenSize, numLayers, dropout)
        => CreateParametersIn(parameters, prefix);

    /// <summary>
    /// The (h, c) the next Forward starts from, copied at its start; zeros when null. Ignored while
    /// <see cref="RnnBase.CarryState"/> has a state to carry. It may be <see cref="FinalState"/> as read after the last
    /// Forward; a FinalState that a later Forward has overwritten is refused (<see cref="LstmState.Clone"/> keeps one).
    /// </summary>
    public LstmState? InitialState
    {
        get => (LstmState?)Initial;
        set => Initial = value;
    }

    /// <summary>
    /// The (h, c) after the last step of the last Forward, in the module's buffers: valid until the next Forward, which
    /// overwrites it whatever its batch size, as every module output; null before the first. Keep it past the next
    /// Forward with <see cref="LstmState.Clone"/>; once overwritten, it is refused as an <see cref="InitialState"/>, by
    /// <see cref="RnnBase.CarryFrom"/>, Clone and Reset, and its Dispose does nothing, also after FinalState is read again: read after a later Forward (or CarryFrom), it is
    /// another object. For each batch size the module hands out two such objects in turn, a new turn at the first read after
    /// each write, as telling a kept reference from the carry pattern's would take an object per Forward: so a reference
    /// kept across two or more turns can be the current object again, and is then taken as the current state.
    /// </summary>
    public LstmState? FinalState => (LstmState?)Final;

    /// <summary>Makes a zero (h, c) state for <paramref name="batch"/> sequences.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is below 1.</exception>
    public LstmState CreateState(Device device, int batch) => new(device, StateLayers, batch, HiddenSize);

    private protected override RnnState NewState(Device device, int batch) => CreateState(device, batch);

    private protected override Type StateKind => typeof(LstmState);

    private protected override void PrepareCells(int k, RnnLayer layer, RnnState? initialState, int steps, int batch)
    {
        var b = cells[k];
        var device = layer.GatesAll!.Device;
        var cellsAll = b.Cells.Get(device, steps * batch, HiddenSize);
        b.CellsAll = cellsAll;
        b.CellSteps = StepViews.Of(cellsAll, steps, batch, b.CellStepCache);
        b.InitialCell = b.InitialCellBuffer.Get(device, batch, HiddenSize);
        if (initialState is null)
        {
            Ops.Fill(b.InitialCell, 0f);
        }
        else
        {
            Ops.Copy(((LstmState)initialState).CellTensors[k], b.InitialCell);
        }

        b.Biases.Combine(layer);
    }

    // b_ih + b_hh, combined in PrepareCells.
    private protected override Tensor InputBias(int k, RnnLayer layer) => cells[k].Biases.Bias!;

    private protected override void ForwardCells(int k, RnnLayer layer, int steps, int batch)
    {
        // Per step: the recurrent GEMM into the step's preactivations, then the fused cell in place; all steps in one
        // call where the device fuses them (the cpu), step by step otherwise.
        var b = cells[k];
        var weightHh = layer.WeightHh.Value;
        if (!Ops.TryLstmRecurrenceForward(layer.GatesAll!, b.CellsAll!, layer.HiddenAll!, layer.InitialHidden!, b.InitialCell!, layer.HasInitialHidden, weightHh, steps, batch))
        {
            var gateSteps = layer.GateSteps!;
            var hiddenSteps = layer.HiddenSteps!;
            for (int t = 0; t < steps; t++)
            {
                var hPrev = t > 0 ? hiddenSteps[t - 1] : layer.InitialHidden!;
                var cPrev = t > 0 ? b.CellSteps![t - 1] : b.InitialCell!;
                if (t > 0 || layer.HasInitialHidden)
                {
                    Ops.Gemm(hPrev, false, weightHh, true, gateSteps[t], 1f, 1f);
                }

                Ops.LstmCellForward(gateSteps[t], cPrev, gateSteps[t], b.CellSteps![t], hiddenSteps[t]);
            }
        }
    }

    private protected override void CopyFinalCells(int k, RnnState finalState)
        => Ops.Copy(cells[k].CellSteps![^1], ((LstmState)finalState).CellTensors[k]);

    private protected override (Tensor InputProjection, Tensor RecurrentProjection) BackwardCells(int k, RnnLayer layer, Tensor dH, Tensor[] dHSteps, int steps, int batch)
    {
        var b = cells[k];
        var device = dH.Device;
        // d(pre) goes over the saved gates, step by step as the cell reads them (see RnnBase.BackwardSequence).
        var dPreAll = layer.GatesAll!;
        var dc = cellGradient.Get(device, batch, HiddenSize);
        var dPreSteps = layer.GateSteps!;
        var weightHh = layer.WeightHh.Value;
        Ops.Fill(dc, 0f);
        b.Biases.GradientSummed = Ops.TryLstmRecurrenceBackward(layer.GatesAll!, b.CellsAll!, b.InitialCell!, dH, dc, dPreAll, b.Biases.Gradient(device, 4 * HiddenSize), weightHh, steps, batch);
        if (!b.Biases.GradientSummed)
        {
            for (int t = steps - 1; t >= 0; t--)
            {
                if (t < steps - 1)
                {
                    // dh_t += d(pre_{t+1})·W_hh: the recurrent contribution.
                    Ops.Gemm(dPreSteps[t + 1], false, weightHh, false, dHSteps[t], 1f, 1f);
                }

                var cPrev = t > 0 ? b.CellSteps![t - 1] : b.InitialCell!;
                Ops.LstmCellBackward(layer.GateSteps![t], b.CellSteps![t], cPrev, dHSteps[t], dc, dPreSteps[t], dc);
            }
        }

        // The input and the recurrent projections share the preactivations, so they share their gradient.
        return (dPreAll, dPreAll);
    }

    // Both biases get the same gradient: the [4H] column sum of d(pre), added to each.
    private protected override void AddBiasGradients(int k, RnnLayer layer, Tensor dInputProjection, Tensor dRecurrentProjection)
        => cells[k].Biases.AddGradients(layer, dInputProjection);

    private protected override void DisposeCellBuffers()
    {
        foreach (var b in cells)
        {
            b.Dispose();
        }

        cellGradient.Dispose();
        wavefrontCellGradient.Dispose();
    }

    /// <summary>What one layer's cell saves in Forward for Backward beyond the stack's (c of every step), and its reused buffers.</summary>
    private sealed class CellBuffers : IDisposable
    {
        public Workspace Cells { get; } = new();

        public Workspace InitialCellBuffer { get; } = new();

        public SharedGateBias Biases { get; } = new();

        public Tensor[]? CellSteps { get; set; }

        public Tensor? CellsAll { get; set; }

        public Tensor? InitialCell { get; set; }

        public RecentViews<Tensor[]> CellStepCache { get; } = new();

        public void Dispose()
        {
            Cells.Dispose();
            InitialCellBuffer.Dispose();
            Biases.Dispose();
        }
    }
}
