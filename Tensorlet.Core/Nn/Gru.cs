namespace Tensorlet.Nn;

/// <summary>
/// A multi-layer GRU with the semantics of nn.GRU(input, hidden, layers, dropout=p, batch_first=…, bidirectional=…): PyTorch's parameter names and
/// layout (<c>weight_ih_l{k}</c> [3H, In], <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>),
/// gate order r, z, n with n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)) and h' = (1 − z) ⊙ n + z ⊙ h, and dropout on
/// every layer's output but the last, in training only. The stack, the state handling and the input and weight GEMMs
/// are <see cref="RnnBase"/>'s; this class is the cell: per step one recurrent GEMM into its own gh (kept apart from gi,
/// because r scales only the recurrent part of n) and the fused cell, and in reverse the fused cell backward.
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]; with batchFirst, [B, T, In] (or [B, T]) and [B, T, H]; with bidirectional,
/// [.., 2H], each step's forward h then its reverse h. It starts from <see cref="InitialState"/> (zeros when null) or, with
/// <see cref="RnnBase.CarryState"/>, from the previous batch's final state, and leaves the final h in
/// <see cref="FinalState"/>: [B, H] per layer, as [layers, B, H]; [2·layers, B, H] when bidirectional.
/// </para>
/// </summary>
public sealed partial class Gru : RnnBase
{
    private readonly CellBuffers[] cells;
    private readonly Workspace carryGradient = new();

    /// <summary>Creates the GRU; its parameters (<c>weight_ih_l0</c> etc.) are made when the root module is built.</summary>
    /// <param name="inputSize">Input features; for one-hot input, the vocabulary size.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last, in training.</param>
    /// <param name="batchFirst">Take [B, T, In] (token indices [B, T]) and return [B, T, H], as PyTorch's batch_first=True; time-major [T, B, In] → [T, B, H] when false.</param>
    /// <param name="bidirectional">Run every layer over the sequence in both directions, as PyTorch's bidirectional=True: the output is [.., 2H] and the states [2·layers, B, H] (see <see cref="RnnBase.Bidirectional"/>).</param>
    public Gru(int inputSize, int hiddenSize, int numLayers = 1, float dropout = 0f, bool batchFirst = false, bool bidirectional = false)
        : base("GRU", 3, inputSize, hiddenSize, numLayers, dropout, batchFirst, bidirectional)
    {
        cells = [.. Enumerable.Range(0, StateLayers).Select(_ => new CellBuffers())];
    }

    /// <summary>The layer form: see <see cref="RnnBase.CreateParametersIn"/>.</summary>
    internal Gru(ParameterCollection parameters, string prefix, int inputSize, int hiddenSize, int numLayers, float dropout)
        : this(inputSize, hiddenSize, numLayers, dropout)
        => CreateParametersIn(parameters, prefix);

    /// <summary>
    /// The h the next Forward starts from, copied at its start; zeros when null. Ignored while
    /// <see cref="RnnBase.CarryState"/> has a state to carry. It may be <see cref="FinalState"/> as read after the last
    /// Forward; a FinalState that a later Forward has overwritten is refused (<see cref="GruState.Clone"/> keeps one).
    /// </summary>
    public GruState? InitialState
    {
        get => (GruState?)Initial;
        set => Initial = value;
    }

    /// <summary>
    /// The h after the last step of the last Forward, in the module's buffers: valid until the next Forward, which
    /// overwrites it whatever its batch size, as every module output; null before the first. Keep it past the next
    /// Forward with <see cref="GruState.Clone"/>; once overwritten, it is refused as an <see cref="InitialState"/>, by
    /// <see cref="RnnBase.CarryFrom"/>, Clone and Reset, and its Dispose does nothing, also after FinalState is read again: read after a later Forward (or CarryFrom), it is
    /// another object. For each batch size the module hands out two such objects in turn, a new turn at the first read after
    /// each write, as telling a kept reference from the carry pattern's would take an object per Forward: so a reference
    /// kept across two or more turns can be the current object again, and is then taken as the current state.
    /// </summary>
    public GruState? FinalState => (GruState?)Final;

    /// <summary>Makes a zero h state for <paramref name="batch"/> sequences.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is below 1.</exception>
    public GruState CreateState(Device device, int batch) => new(device, StateLayers, batch, HiddenSize);

    private protected override RnnState NewState(Device device, int batch) => CreateState(device, batch);

    private protected override Type StateKind => typeof(GruState);

    private protected override void PrepareCells(int k, RnnLayer layer, RnnState? initialState, int steps, int batch)
    {
        var b = cells[k];
        var recurrent = b.Recurrent.Get(layer.GatesAll!.Device, steps * batch, 3 * HiddenSize);
        b.RecurrentAll = recurrent;
        b.RecurrentSteps = StepViews.Of(recurrent, steps, batch, b.RecurrentStepCache);

        // gh starts as b_hh in every row, and each step adds h_{t−1}·W_hhᵀ (none at t = 0 from a zero state).
        Ops.FillRows(recurrent, layer.BiasHh.Value);
    }

    // gi = x·W_ihᵀ + b_ih.
    private protected override Tensor InputBias(int k, RnnLayer layer) => layer.BiasIh.Value;

    private protected override void ForwardCells(int k, RnnLayer layer, int steps, int batch)
    {
        // Per step: the recurrent GEMM, then the fused cell (gates over gi); all steps in one call where the device fuses
        // them (the cpu), step by step otherwise.
        var b = cells[k];
        var weightHh = layer.WeightHh.Value;
        if (!Ops.TryGruRecurrenceForward(layer.GatesAll!, b.RecurrentAll!, layer.HiddenAll!, layer.InitialHidden!, layer.HasInitialHidden, weightHh, steps, batch))
        {
            var gateSteps = layer.GateSteps!;
            var hiddenSteps = layer.HiddenSteps!;
            for (int t = 0; t < steps; t++)
            {
                var hPrev = t > 0 ? hiddenSteps[t - 1] : layer.InitialHidden!;
                if (t > 0 || layer.HasInitialHidden)
                {
                    Ops.Gemm(hPrev, false, weightHh, true, b.RecurrentSteps![t], 1f, 1f);
                }

                Ops.GruCellForward(gateSteps[t], b.RecurrentSteps![t], hPrev, gateSteps[t], hiddenSteps[t]);
            }
        }
    }

    private protected override (Tensor InputProjection, Tensor RecurrentProjection) BackwardCells(int k, RnnLayer layer, Tensor dH, Tensor[] dHSteps, int steps, int batch)
    {
        var b = cells[k];
        var device = dH.Device;
        // dgi goes over the saved gates and dgh over the saved gh, step by step as the cell reads them (see RnnBase.BackwardSequence).
        var dGiAll = layer.GatesAll!;
        var dGhAll = b.RecurrentAll!;
        var carry = carryGradient.Get(device, batch, HiddenSize);
        var dGiSteps = layer.GateSteps!;
        var dGhSteps = b.RecurrentSteps!;
        var weightHh = layer.WeightHh.Value;
        Ops.Fill(carry, 0f);
        b.BiasGradientsSummed = Ops.TryGruRecurrenceBackward(
            layer.GatesAll!, b.RecurrentAll!, layer.HiddenAll!, layer.InitialHidden!, dH, carry, dGiAll, dGhAll, b.BiasIhGradient(device, HiddenSize), b.BiasHhGradient(device, HiddenSize), weightHh, steps, batch);
        if (!b.BiasGradientsSummed)
        {
            for (int t = steps - 1; t >= 0; t--)
            {
                if (t < steps - 1)
                {
                    // dh_t += dgh_{t+1}·W_hh: the recurrent contribution through gh.
                    Ops.Gemm(dGhSteps[t + 1], false, weightHh, false, dHSteps[t], 1f, 1f);
                }

                var hPrev = t > 0 ? layer.HiddenSteps![t - 1] : layer.InitialHidden!;
                Ops.GruCellBackward(layer.GateSteps![t], b.RecurrentSteps![t], hPrev, dHSteps[t], carry, dGiSteps[t], dGhSteps[t], carry);
            }
        }

        return (dGiAll, dGhAll);
    }

    private protected override void AddBiasGradients(int k, RnnLayer layer, Tensor dInputProjection, Tensor dRecurrentProjection)
    {
        // The fused recurrence sums dgi and dgh as it writes them; otherwise each takes a pass.
        var b = cells[k];
        if (!b.BiasGradientsSummed)
        {
            Ops.SumColumns(dInputProjection, layer.BiasIh.Gradient, accumulate: true);
            Ops.SumColumns(dRecurrentProjection, layer.BiasHh.Gradient, accumulate: true);
            return;
        }

        var device = dInputProjection.Device;
        Ops.AddBias(b.BiasIhGradientRow ??= layer.BiasIh.Gradient.Reshape(1, 3 * HiddenSize), b.BiasIhGradient(device, HiddenSize));
        Ops.AddBias(b.BiasHhGradientRow ??= layer.BiasHh.Gradient.Reshape(1, 3 * HiddenSize), b.BiasHhGradient(device, HiddenSize));
    }

    private protected override void DisposeCellBuffers()
    {
        foreach (var b in cells)
        {
            b.Dispose();
        }

        carryGradient.Dispose();
        wavefrontCarryGradient.Dispose();
    }

    /// <summary>What one layer's cell saves in Forward for Backward beyond the stack's (gh of every step), and its reused buffer.</summary>
    private sealed class CellBuffers : IDisposable
    {
        public Workspace Recurrent { get; } = new();

        public Tensor[]? RecurrentSteps { get; set; }

        public Tensor? RecurrentAll { get; set; }

        /// <summary>b_ih as a row [1, 3H], for the wavefront's input projection of the layer above.</summary>
        public Tensor? BiasIhRow { get; set; }

        public Workspace BiasIhGradientSum { get; } = new();

        public Workspace BiasHhGradientSum { get; } = new();

        public Tensor? BiasIhGradientRow { get; set; }

        public Tensor? BiasHhGradientRow { get; set; }

        /// <summary>Whether the Backward's recurrence left the column sums of dgi and dgh in <see cref="BiasIhGradient"/> and <see cref="BiasHhGradient"/>.</summary>
        public bool BiasGradientsSummed { get; set; }

        /// <summary>The column sum of dgi [1, 3H]: the gradient of b_ih.</summary>
        public Tensor BiasIhGradient(Device device, int hiddenSize) => BiasIhGradientSum.Get(device, 1, 3 * hiddenSize);

        /// <summary>The column sum of dgh [1, 3H]: the gradient of b_hh.</summary>
        public Tensor BiasHhGradient(Device device, int hiddenSize) => BiasHhGradientSum.Get(device, 1, 3 * hiddenSize);

        public RecentViews<Tensor[]> RecurrentStepCache { get; } = new();

        public void Dispose()
        {
            Recurrent.Dispose();
            BiasIhGradientSum.Dispose();
            BiasHhGradientSum.Dispose();
        }
    }
}
