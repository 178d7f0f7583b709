namespace Tensorlet.Nn;

/// <summary>
/// A multi-layer LSTM with the semantics of nn.LSTM(input, hidden, layers, dropout=p): PyTorch's
/// parameter names and layout (<c>weight_ih_l{k}</c> [4H, In], <c>weight_hh_l{k}</c> [4H, H],
/// <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>), gate order i, f, g, o, and dropout on every layer's output
/// but the last, in training only.
/// <para>
/// Sequences are time-major inside: row t·B + b of an input or output belongs to step t of sequence b.
/// Forward and backward follow the cuDNN recipe (Appleyard et al. 2016): one GEMM (or, for one-hot
/// input, one gather) projects the input of all steps at once; each step does one recurrent GEMM and
/// the fused cell; backward runs in reverse through the fused cell backward, and dW_ih, dW_hh and the
/// input gradient are each one large GEMM after the loop. Every buffer is owned by the layer and reused.
/// </para>
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]. It starts from <see cref="InitialState"/> (zeros when null) or, with
/// <see cref="CarryState"/>, from the previous batch's final state, and leaves the final (h, c) in <see cref="FinalState"/>.
/// No gradient flows into the initial state: carrying the state across batches is truncated backpropagation through time.
/// </para>
/// </summary>
public sealed class Lstm : Module
{
    private readonly LayerParameters[] layers;
    private readonly float dropout;
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly FlatIndexView flatIndices = new();
    private Tensor? savedInputShaped;
    private ulong moduleSeed;
    private ulong moduleStream;
    private LstmState? finalState;
    private readonly LayerBuffers[] buffers;
    private readonly Workspace hiddenGradient = new();
    private readonly Workspace gateGradient = new();
    private readonly Workspace cellGradient = new();
    private readonly Workspace inputGradientBuffer = new();
    private IndexTensor? savedIndices;
    private Tensor? savedInput;
    private int steps;
    private int batch;

    /// <summary>Creates the LSTM; its parameters (<c>weight_ih_l0</c> etc.) are made when the root module is built.</summary>
    /// <param name="inputSize">Input features; for one-hot input, the vocabulary size.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last, in training.</param>
    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, float dropout = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout probability must be in [0, 1).");
        }

        this.dropout = dropout;
        layers = new LayerParameters[numLayers];
        buffers = new LayerBuffers[numLayers];
        for (int k = 0; k < numLayers; k++)
        {
            buffers[k] = new LayerBuffers(k < numLayers - 1 ? dropout : 0f);
        }
    }

    /// <summary>
    /// The layer form: registers <c>{prefix}.weight_ih_l0</c> etc. in a collection the caller owns and builds, for a
    /// hand-assembled model outside a module tree (such a layer cannot be a child of a built module).
    /// </summary>
    public Lstm(ParameterCollection parameters, string prefix, int inputSize, int hiddenSize, int numLayers, float dropout)
        : this(inputSize, hiddenSize, numLayers, dropout)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        CreateParameters(parameters, prefix, 0);
    }

    /// <summary>Input features (the vocabulary size for one-hot input).</summary>
    public int InputSize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Dropout on the outputs of every layer but the last, in training.</summary>
    public float DropoutProbability => dropout;

    /// <summary>The (h, c) the next Forward starts from, copied at its start; zeros when null. Ignored while <see cref="CarryState"/> has a state to carry.</summary>
    public LstmState? InitialState { get; set; }

    /// <summary>
    /// When true, each Forward starts from the previous Forward's final state (zeros the first time, or when the batch
    /// size changes), and no gradient flows back into it: truncated backpropagation through time.
    /// </summary>
    public bool CarryState { get; set; }

    /// <summary>The (h, c) after the last step of the last Forward, owned by the module; null before the first.</summary>
    public LstmState? FinalState => finalState;

    /// <summary>Forgets the carried state, so the next Forward starts from <see cref="InitialState"/> or zeros.</summary>
    public void ResetState()
    {
        finalState?.Dispose();
        finalState = null;
    }

    /// <summary>
    /// Makes a copy of <paramref name="state"/> the state carried into the next Forward of its batch size, as if the
    /// previous Forward had ended with it (with <see cref="CarryState"/> set): how stateful training resumed in the
    /// middle of an epoch continues exactly.
    /// </summary>
    public void CarryFrom(LstmState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Hidden.Count != NumLayers || state.Hidden[0].Shape[1] != HiddenSize)
        {
            throw new ArgumentException($"The state has {state.Hidden.Count} layers of {state.Hidden[0].Shape[1]}; this module {NumLayers} of {HiddenSize}.", nameof(state));
        }

        var carried = EndState(state.Hidden[0].Device, state.Batch);
        for (int k = 0; k < NumLayers; k++)
        {
            Ops.Copy(state.Hidden[k], carried.Hidden[k]);
            Ops.Copy(state.Cell[k], carried.Cell[k]);
        }
    }

    /// <summary>h of the last layer for every step, [T, B, H], for dense input [T, B, In] (or [T·B, In] with one sequence step per row when given as a matrix of one step).</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
        {
            throw new ArgumentException($"The LSTM module takes [T, B, In] (time-major); got {input.ShapeText}.", nameof(input));
        }

        int steps = input.Shape[0];
        int batch = input.Shape[1];
        var x = inputMatrix.Matrix(input, steps * batch, input.Shape[2]);
        savedInputShaped = input;
        var y = Forward(x, steps, batch, Training, moduleSeed, moduleStream++, StartState(batch), EndState(input.Device, batch));
        return outputShaped.Like(y, input, HiddenSize);
    }

    /// <summary>h of the last layer for every step, [T, B, H], for token indices [T, B] read as one-hot input of width In.</summary>
    public override Tensor Forward(IndexTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 2)
        {
            throw new ArgumentException($"The LSTM module takes token indices [T, B] (time-major); got {input.ShapeText}.", nameof(input));
        }

        int steps = input.Shape[0];
        int batch = input.Shape[1];
        savedInputShaped = null;
        var y = Forward(flatIndices.Of(input), steps, batch, Training, moduleSeed, moduleStream++, StartState(batch), EndState(input.Device, batch));
        return outputShaped.Append(y, input, HiddenSize);
    }

    /// <summary>From dL/d(output) [T, B, H] (used as scratch), accumulates every parameter gradient; returns dL/d(input) [T, B, In], or null for indices.</summary>
    public override Tensor? Backward(Tensor outputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, steps * batch, HiddenSize);
        var dx = BackwardSequence(dy);
        return dx is null || savedInputShaped is null ? dx : inputGradientShaped.Like(dx, savedInputShaped, InputSize);
    }

    /// <summary>Makes a zero (h, c) state for <paramref name="batch"/> sequences.</summary>
    public LstmState CreateState(Device device, int batch) => new(device, NumLayers, batch, HiddenSize);

    /// <summary>Runs the LSTM on one-hot input given as indices [T·B], time-major (the layer form, without the module's state handling).</summary>
    /// <param name="indices">Token ids in [0, InputSize), row t·B + b.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="training">Whether to apply dropout.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks.</param>
    /// <param name="dropoutStream">Distinguishes the masks of successive batches (e.g. the step counter).</param>
    /// <param name="initialState">The (h, c) to start from; zeros when null.</param>
    /// <param name="finalState">When given, receives the (h, c) after the last step.</param>
    /// <returns>The last layer's h for every step, [T·B, H], owned by the layer until the next Forward.</returns>
    internal Tensor Forward(IndexTensor indices, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, LstmState? initialState = null, LstmState? finalState = null)
    {
        CheckSizes((int)indices.Length, steps, batch, initialState, finalState);
        savedIndices = indices;
        savedInput = null;
        return Run(indices.Device, steps, batch, training, dropoutSeed, dropoutStream, initialState, finalState);
    }

    /// <summary>Runs the LSTM on dense input [T·B, InputSize], time-major. See the one-hot overload for the other arguments.</summary>
    internal Tensor Forward(Tensor input, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, LstmState? initialState = null, LstmState? finalState = null)
    {
        if (input.Columns != InputSize)
        {
            throw new ArgumentException($"The LSTM expects {InputSize} input features but got {input.ShapeText}.", nameof(input));
        }

        CheckSizes(input.Rows, steps, batch, initialState, finalState);
        savedIndices = null;
        savedInput = input;
        return Run(input.Device, steps, batch, training, dropoutSeed, dropoutStream, initialState, finalState);
    }

    /// <summary>
    /// Backpropagates through time from dL/d(output) [T·B, H] (which is overwritten as scratch),
    /// accumulating every parameter gradient. Returns dL/d(input) [T·B, InputSize] for dense input, or null for one-hot input.
    /// </summary>
    internal Tensor? BackwardSequence(Tensor outputGradient)
    {
        if (steps == 0)
        {
            throw new InvalidOperationException("Lstm.Backward was called before Forward.");
        }

        var device = outputGradient.Device;
        int rows = steps * batch;
        if (outputGradient.Rows != rows || outputGradient.Columns != HiddenSize)
        {
            throw new ArgumentException($"The LSTM output gradient must be [{rows}, {HiddenSize}] but is {outputGradient.ShapeText}.", nameof(outputGradient));
        }

        var dPreAll = gateGradient.Get(device, rows, 4 * HiddenSize);
        var dc = cellGradient.Get(device, batch, HiddenSize);
        var dPreSteps = StepViews.Of(dPreAll, steps, batch, ref dPreStepCache);
        Tensor dH = outputGradient;
        Tensor? inputGradient = null;
        for (int k = NumLayers - 1; k >= 0; k--)
        {
            var p = layers[k];
            var b = buffers[k];
            var dHSteps = StepViews.Of(dH, steps, batch, ref b.GradientStepCache);
            Ops.Fill(dc, 0f);
            if (!Ops.TryLstmRecurrenceBackward(b.GatesAll!, b.CellsAll!, b.InitialCell!, dH, dc, dPreAll, p.WeightHh.Value, steps, batch))
            {
                for (int t = steps - 1; t >= 0; t--)
                {
                    if (t < steps - 1)
                    {
                        // dh_t += d(pre_{t+1})·W_hh: the recurrent contribution.
                        Ops.Gemm(dPreSteps[t + 1], false, p.WeightHh.Value, false, dHSteps[t], 1f, 1f);
                    }

                    var cPrev = t > 0 ? b.CellSteps![t - 1] : b.InitialCell!;
                    Ops.LstmCellBackward(b.GateSteps![t], b.CellSteps![t], cPrev, dHSteps[t], dc, dPreSteps[t], dc);
                }
            }

            // After the loop, each weight gradient is one GEMM over all steps.
            if (steps > 1)
            {
                var laterGradients = StepViews.Rows(dPreAll, batch, rows - batch, ref b.LaterGateGradients);
                var earlierHidden = StepViews.Rows(b.HiddenAll!, 0, rows - batch, ref b.EarlierHidden);
                Ops.Gemm(laterGradients, true, earlierHidden, false, p.WeightHh.Gradient, 1f, 1f);
            }

            if (b.HasInitialHidden)
            {
                Ops.Gemm(dPreSteps[0], true, b.InitialHidden!, false, p.WeightHh.Gradient, 1f, 1f);
            }

            // Both biases get the same gradient: one pass over d(pre), then add the [4H] sum to each.
            var biasGradient = b.BiasGradientSum.Get(device, 1, 4 * HiddenSize);
            Ops.SumColumns(dPreAll, biasGradient);
            Ops.AddBias(b.BiasIhGradientRow ??= p.BiasIh.Gradient.Reshape(1, 4 * HiddenSize), biasGradient);
            Ops.AddBias(b.BiasHhGradientRow ??= p.BiasHh.Gradient.Reshape(1, 4 * HiddenSize), biasGradient);
            if (k == 0 && savedIndices is not null)
            {
                Ops.ScatterAddColumns(dPreAll, savedIndices, p.WeightIh.Gradient);
                break;
            }

            var layerInput = k == 0 ? savedInput! : buffers[k - 1].Output!;
            Ops.Gemm(dPreAll, true, layerInput, false, p.WeightIh.Gradient, 1f, 1f);
            if (k == 0)
            {
                inputGradient = inputGradientBuffer.Get(device, rows, InputSize);
                Ops.Gemm(dPreAll, false, p.WeightIh.Value, false, inputGradient);
                break;
            }

            // dH of layer k is dead now; reuse a layer-owned buffer for the layer below's dH.
            var below = hiddenGradient.Get(device, rows, HiddenSize);
            Ops.Gemm(dPreAll, false, p.WeightIh.Value, false, below);
            dH = buffers[k - 1].Dropout.Backward(below);
        }

        return inputGradient;
    }

    /// <summary>Registers <c>weight_ih_l{k}</c> [4H, In], <c>weight_hh_l{k}</c> [4H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [4H] with nn.LSTM's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (layers[0] is not null)
        {
            throw new InvalidOperationException("This LSTM already has its parameters in a collection (the layer form); it cannot join a module tree.");
        }

        var init = Initializers.LstmDefault(HiddenSize);
        for (int k = 0; k < NumLayers; k++)
        {
            int inK = k == 0 ? InputSize : HiddenSize;
            layers[k] = new LayerParameters(
                parameters.Add(JoinName(prefix, $"weight_ih_l{k}"), [4 * HiddenSize, inK], init),
                parameters.Add(JoinName(prefix, $"weight_hh_l{k}"), [4 * HiddenSize, HiddenSize], init),
                parameters.Add(JoinName(prefix, $"bias_ih_l{k}"), [4 * HiddenSize], init),
                parameters.Add(JoinName(prefix, $"bias_hh_l{k}"), [4 * HiddenSize], init));
        }
    }

    /// <inheritdoc/>
    protected override void OnRandomState(ulong seed, ulong stream)
    {
        moduleSeed = seed;
        moduleStream = stream;
    }

    /// <summary>Frees the layer's buffers (its parameters belong to the root module's collection).</summary>
    protected override void DisposeBuffers()
    {
        finalState?.Dispose();
        foreach (var b in buffers)
        {
            b.Dispose();
        }

        hiddenGradient.Dispose();
        gateGradient.Dispose();
        cellGradient.Dispose();
        inputGradientBuffer.Dispose();
    }

    private Tensor[]? dPreStepCache;

    private LstmState? StartState(int batch) => CarryState && finalState is not null && finalState.Batch == batch ? finalState : InitialState;

    private LstmState EndState(Device device, int batch)
    {
        if (finalState is null || finalState.Batch != batch)
        {
            finalState?.Dispose();
            finalState = CreateState(device, batch);
        }

        return finalState;
    }

    private Tensor Run(Device device, int steps, int batch, bool training, ulong dropoutSeed, ulong dropoutStream, LstmState? initialState, LstmState? finalState)
    {
        this.steps = steps;
        this.batch = batch;
        int rows = steps * batch;
        Tensor? layerInput = savedInput;
        Tensor output = null!;
        for (int k = 0; k < NumLayers; k++)
        {
            var p = layers[k];
            var b = buffers[k];

            var gates = b.Gates.Get(device, rows, 4 * HiddenSize);
            var cells = b.Cells.Get(device, rows, HiddenSize);
            var hidden = b.Hidden.Get(device, rows, HiddenSize);
            b.HiddenAll = hidden;
            b.GateSteps = StepViews.Of(gates, steps, batch, ref b.GateStepCache);
            b.CellSteps = StepViews.Of(cells, steps, batch, ref b.CellStepCache);
            var hiddenSteps = StepViews.Of(hidden, steps, batch, ref b.HiddenStepCache);
            b.InitialHidden = b.InitialHiddenBuffer.Get(device, batch, HiddenSize);
            b.InitialCell = b.InitialCellBuffer.Get(device, batch, HiddenSize);
            b.HasInitialHidden = initialState is not null;
            if (initialState is null)
            {
                Ops.Fill(b.InitialHidden, 0f);
                Ops.Fill(b.InitialCell, 0f);
            }
            else
            {
                Ops.Copy(initialState.Hidden[k], b.InitialHidden);
                Ops.Copy(initialState.Cell[k], b.InitialCell);
            }

            // 1. The input projection of all steps at once, plus both biases.
            if (k == 0 && savedIndices is not null)
            {
                Ops.GatherColumns(p.WeightIh.Value, savedIndices, gates);
            }
            else
            {
                Ops.Gemm(layerInput!, false, p.WeightIh.Value, true, gates);
            }

            // b_ih + b_hh first, so the [T·B, 4H] preactivations take one pass instead of two.
            var bias = b.CombinedBias.Get(device, 1, 4 * HiddenSize);
            Ops.Copy(p.BiasIh.Value, bias);
            Ops.AddBias(bias, p.BiasHh.Value);
            Ops.AddBias(gates, bias);

            // 2. Per step: the recurrent GEMM into the step's preactivations, then the fused cell in place; all steps
            //    in one call where the device fuses them (the cpu), step by step otherwise.
            b.GatesAll = gates;
            b.CellsAll = cells;
            if (!Ops.TryLstmRecurrenceForward(gates, cells, hidden, b.InitialHidden, b.InitialCell, b.HasInitialHidden, p.WeightHh.Value, steps, batch))
            {
                for (int t = 0; t < steps; t++)
                {
                    var hPrev = t > 0 ? hiddenSteps[t - 1] : b.InitialHidden;
                    var cPrev = t > 0 ? b.CellSteps[t - 1] : b.InitialCell;
                    if (t > 0 || b.HasInitialHidden)
                    {
                        Ops.Gemm(hPrev, false, p.WeightHh.Value, true, b.GateSteps[t], 1f, 1f);
                    }

                    Ops.LstmCellForward(b.GateSteps[t], cPrev, b.GateSteps[t], b.CellSteps[t], hiddenSteps[t]);
                }
            }

            if (finalState is not null)
            {
                Ops.Copy(hiddenSteps[steps - 1], finalState.Hidden[k]);
                Ops.Copy(b.CellSteps[steps - 1], finalState.Cell[k]);
            }

            output = b.Dropout.Forward(hidden, training, dropoutSeed, (dropoutStream * 64) + (ulong)k);
            b.Output = output;
            layerInput = output;
        }

        return output;
    }

    private void CheckSizes(int rows, int steps, int batch, LstmState? initialState, LstmState? finalState)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (rows != steps * batch)
        {
            throw new ArgumentException($"The LSTM input has {rows} rows but steps × batch = {steps} × {batch} = {steps * batch}.");
        }

        CheckState(initialState, batch);
        CheckState(finalState, batch);
    }

    private void CheckState(LstmState? state, int batch)
    {
        if (state is not null && (state.Batch != batch || state.Hidden.Count != NumLayers))
        {
            throw new ArgumentException($"The LSTM state is for batch {state.Batch} and {state.Hidden.Count} layers, but the input has batch {batch} and the LSTM {NumLayers} layers.");
        }
    }

    private sealed record LayerParameters(Parameter WeightIh, Parameter WeightHh, Parameter BiasIh, Parameter BiasHh);

    /// <summary>What one layer saves in Forward for Backward, and its reused buffers.</summary>
    private sealed class LayerBuffers(float dropout) : IDisposable
    {
        public Workspace Gates { get; } = new();

        public Workspace Cells { get; } = new();

        public Workspace Hidden { get; } = new();

        public Workspace InitialHiddenBuffer { get; } = new();

        public Workspace InitialCellBuffer { get; } = new();

        public Workspace CombinedBias { get; } = new();

        public Workspace BiasGradientSum { get; } = new();

        public Tensor? BiasIhGradientRow { get; set; }

        public Tensor? BiasHhGradientRow { get; set; }

        public Dropout Dropout { get; } = new(dropout);

        public Tensor[]? GateSteps { get; set; }

        public Tensor[]? CellSteps { get; set; }

        public Tensor? HiddenAll { get; set; }

        public Tensor? GatesAll { get; set; }

        public Tensor? CellsAll { get; set; }

        public Tensor? InitialHidden { get; set; }

        public Tensor? InitialCell { get; set; }

        public bool HasInitialHidden { get; set; }

        public Tensor? Output { get; set; }

#pragma warning disable SA1401 // Passed by ref to the view cache.
        public Tensor[]? GateStepCache;
        public Tensor[]? CellStepCache;
        public Tensor[]? HiddenStepCache;
        public Tensor[]? GradientStepCache;
        public Tensor? LaterGateGradients;
        public Tensor? EarlierHidden;
#pragma warning restore SA1401

        public void Dispose()
        {
            Gates.Dispose();
            Cells.Dispose();
            Hidden.Dispose();
            InitialHiddenBuffer.Dispose();
            InitialCellBuffer.Dispose();
            CombinedBias.Dispose();
            BiasGradientSum.Dispose();
            Dropout.Dispose();
        }
    }
}
