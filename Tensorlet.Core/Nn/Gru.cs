namespace Tensorlet.Nn;

/// <summary>
/// A multi-layer GRU with the semantics of nn.GRU(input, hidden, layers, dropout=p): PyTorch's parameter names and
/// layout (<c>weight_ih_l{k}</c> [3H, In], <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>),
/// gate order r, z, n with n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)) and h' = (1 − z) ⊙ n + z ⊙ h, and dropout on
/// every layer's output but the last, in training only.
/// <para>
/// Sequences are time-major inside: row t·B + b of an input or output belongs to step t of sequence b. As
/// <see cref="Lstm"/>: one GEMM (or, for one-hot input, one gather) projects the input of all steps at once; each step
/// does one recurrent GEMM into its own gh (kept apart from gi, because r scales only the recurrent part of n) and the
/// fused cell; backward runs in reverse through the fused cell backward, and dW_ih, dW_hh and the input gradient are
/// each one large GEMM after the loop. Every buffer is owned by the layer and reused.
/// </para>
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]. It starts from <see cref="InitialState"/> (zeros when null) or, with
/// <see cref="CarryState"/>, from the previous batch's final state, and leaves the final h in <see cref="FinalState"/>.
/// No gradient flows into the initial state: carrying the state across batches is truncated backpropagation through time.
/// </para>
/// </summary>
public sealed class Gru : Module
{
    private readonly LayerParameters[] layers;
    private readonly LayerBuffers[] buffers;
    private readonly float dropout;
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly FlatIndexView flatIndices = new();
    private readonly Workspace hiddenGradient = new();
    private readonly Workspace inputProjectionGradient = new();
    private readonly Workspace recurrentProjectionGradient = new();
    private readonly Workspace carryGradient = new();
    private readonly Workspace inputGradientBuffer = new();
    private Tensor? savedInputShaped;
    private ulong moduleSeed;
    private ulong moduleStream;
    private GruState? finalState;
    private IndexTensor? savedIndices;
    private Tensor? savedInput;
    private int steps;
    private int batch;
    private Tensor[]? dGiStepCache;
    private Tensor[]? dGhStepCache;

    /// <summary>Creates the GRU; its parameters (<c>weight_ih_l0</c> etc.) are made when the root module is built.</summary>
    /// <param name="inputSize">Input features; for one-hot input, the vocabulary size.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last, in training.</param>
    public Gru(int inputSize, int hiddenSize, int numLayers = 1, float dropout = 0f)
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
    public Gru(ParameterCollection parameters, string prefix, int inputSize, int hiddenSize, int numLayers, float dropout)
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

    /// <summary>The h the next Forward starts from, copied at its start; zeros when null. Ignored while <see cref="CarryState"/> has a state to carry.</summary>
    public GruState? InitialState { get; set; }

    /// <summary>
    /// When true, each Forward starts from the previous Forward's final state (zeros the first time, or when the batch
    /// size changes), and no gradient flows back into it: truncated backpropagation through time.
    /// </summary>
    public bool CarryState { get; set; }

    /// <summary>The h after the last step of the last Forward, owned by the module; null before the first.</summary>
    public GruState? FinalState => finalState;

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
    public void CarryFrom(GruState state)
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
        }
    }

    /// <summary>h of the last layer for every step, [T, B, H], for dense input [T, B, In].</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
        {
            throw new ArgumentException($"The GRU module takes [T, B, In] (time-major); got {input.ShapeText}.", nameof(input));
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
            throw new ArgumentException($"The GRU module takes token indices [T, B] (time-major); got {input.ShapeText}.", nameof(input));
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

    /// <summary>Makes a zero h state for <paramref name="batch"/> sequences.</summary>
    public GruState CreateState(Device device, int batch) => new(device, NumLayers, batch, HiddenSize);

    /// <summary>Runs the GRU on one-hot input given as indices [T·B], time-major (the layer form, without the module's state handling).</summary>
    /// <param name="indices">Token ids in [0, InputSize), row t·B + b.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="training">Whether to apply dropout.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks.</param>
    /// <param name="dropoutStream">Distinguishes the masks of successive batches (e.g. the step counter).</param>
    /// <param name="initialState">The h to start from; zeros when null. It may be <paramref name="finalState"/>.</param>
    /// <param name="finalState">When given, receives the h after the last step.</param>
    /// <returns>The last layer's h for every step, [T·B, H], owned by the layer until the next Forward.</returns>
    internal Tensor Forward(IndexTensor indices, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, GruState? initialState = null, GruState? finalState = null)
    {
        CheckSizes((int)indices.Length, steps, batch, initialState, finalState);
        savedIndices = indices;
        savedInput = null;
        return Run(indices.Device, steps, batch, training, dropoutSeed, dropoutStream, initialState, finalState);
    }

    /// <summary>Runs the GRU on dense input [T·B, InputSize], time-major. See the one-hot overload for the other arguments.</summary>
    internal Tensor Forward(Tensor input, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, GruState? initialState = null, GruState? finalState = null)
    {
        if (input.Columns != InputSize)
        {
            throw new ArgumentException($"The GRU expects {InputSize} input features but got {input.ShapeText}.", nameof(input));
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
            throw new InvalidOperationException("Gru.Backward was called before Forward.");
        }

        var device = outputGradient.Device;
        int rows = steps * batch;
        if (outputGradient.Rows != rows || outputGradient.Columns != HiddenSize)
        {
            throw new ArgumentException($"The GRU output gradient must be [{rows}, {HiddenSize}] but is {outputGradient.ShapeText}.", nameof(outputGradient));
        }

        var dGiAll = inputProjectionGradient.Get(device, rows, 3 * HiddenSize);
        var dGhAll = recurrentProjectionGradient.Get(device, rows, 3 * HiddenSize);
        var carry = carryGradient.Get(device, batch, HiddenSize);
        var dGiSteps = StepViews.Of(dGiAll, steps, batch, ref dGiStepCache);
        var dGhSteps = StepViews.Of(dGhAll, steps, batch, ref dGhStepCache);
        Tensor dH = outputGradient;
        Tensor? inputGradient = null;
        for (int k = NumLayers - 1; k >= 0; k--)
        {
            var p = layers[k];
            var b = buffers[k];
            var dHSteps = StepViews.Of(dH, steps, batch, ref b.GradientStepCache);
            Ops.Fill(carry, 0f);
            if (!Ops.TryGruRecurrenceBackward(b.GatesAll!, b.RecurrentAll!, b.HiddenAll!, b.InitialHidden!, dH, carry, dGiAll, dGhAll, p.WeightHh.Value, steps, batch))
            {
                for (int t = steps - 1; t >= 0; t--)
                {
                    if (t < steps - 1)
                    {
                        // dh_t += dgh_{t+1}·W_hh: the recurrent contribution through gh.
                        Ops.Gemm(dGhSteps[t + 1], false, p.WeightHh.Value, false, dHSteps[t], 1f, 1f);
                    }

                    var hPrev = t > 0 ? b.HiddenSteps![t - 1] : b.InitialHidden!;
                    Ops.GruCellBackward(b.GateSteps![t], b.RecurrentSteps![t], hPrev, dHSteps[t], carry, dGiSteps[t], dGhSteps[t], carry);
                }
            }

            // After the loop, each weight gradient is one GEMM over all steps.
            if (steps > 1)
            {
                var laterGradients = StepViews.Rows(dGhAll, batch, rows - batch, ref b.LaterRecurrentGradients);
                var earlierHidden = StepViews.Rows(b.HiddenAll!, 0, rows - batch, ref b.EarlierHidden);
                Ops.Gemm(laterGradients, true, earlierHidden, false, p.WeightHh.Gradient, 1f, 1f);
            }

            if (b.HasInitialHidden)
            {
                Ops.Gemm(dGhSteps[0], true, b.InitialHidden!, false, p.WeightHh.Gradient, 1f, 1f);
            }

            Ops.SumColumns(dGiAll, p.BiasIh.Gradient, accumulate: true);
            Ops.SumColumns(dGhAll, p.BiasHh.Gradient, accumulate: true);
            if (k == 0 && savedIndices is not null)
            {
                Ops.ScatterAddColumns(dGiAll, savedIndices, p.WeightIh.Gradient);
                break;
            }

            var layerInput = k == 0 ? savedInput! : buffers[k - 1].Output!;
            Ops.Gemm(dGiAll, true, layerInput, false, p.WeightIh.Gradient, 1f, 1f);
            if (k == 0)
            {
                inputGradient = inputGradientBuffer.Get(device, rows, InputSize);
                Ops.Gemm(dGiAll, false, p.WeightIh.Value, false, inputGradient);
                break;
            }

            // dH of layer k is dead now; reuse a layer-owned buffer for the layer below's dH.
            var below = hiddenGradient.Get(device, rows, HiddenSize);
            Ops.Gemm(dGiAll, false, p.WeightIh.Value, false, below);
            dH = buffers[k - 1].Dropout.Backward(below);
        }

        return inputGradient;
    }

    /// <summary>Registers <c>weight_ih_l{k}</c> [3H, In], <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [3H] with nn.GRU's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (layers[0] is not null)
        {
            throw new InvalidOperationException("This GRU already has its parameters in a collection (the layer form); it cannot join a module tree.");
        }

        // nn.GRU initialises as nn.LSTM does: every weight and bias from U(−1/√H, 1/√H).
        var init = Initializers.LstmDefault(HiddenSize);
        for (int k = 0; k < NumLayers; k++)
        {
            int inK = k == 0 ? InputSize : HiddenSize;
            layers[k] = new LayerParameters(
                parameters.Add(JoinName(prefix, $"weight_ih_l{k}"), [3 * HiddenSize, inK], init),
                parameters.Add(JoinName(prefix, $"weight_hh_l{k}"), [3 * HiddenSize, HiddenSize], init),
                parameters.Add(JoinName(prefix, $"bias_ih_l{k}"), [3 * HiddenSize], init),
                parameters.Add(JoinName(prefix, $"bias_hh_l{k}"), [3 * HiddenSize], init));
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
        inputProjectionGradient.Dispose();
        recurrentProjectionGradient.Dispose();
        carryGradient.Dispose();
        inputGradientBuffer.Dispose();
    }

    private GruState? StartState(int batch) => CarryState && finalState is not null && finalState.Batch == batch ? finalState : InitialState;

    private GruState EndState(Device device, int batch)
    {
        if (finalState is null || finalState.Batch != batch)
        {
            finalState?.Dispose();
            finalState = CreateState(device, batch);
        }

        return finalState;
    }

    private Tensor Run(Device device, int steps, int batch, bool training, ulong dropoutSeed, ulong dropoutStream, GruState? initialState, GruState? finalState)
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

            var gates = b.Gates.Get(device, rows, 3 * HiddenSize);
            var recurrent = b.Recurrent.Get(device, rows, 3 * HiddenSize);
            var hidden = b.Hidden.Get(device, rows, HiddenSize);
            b.GatesAll = gates;
            b.RecurrentAll = recurrent;
            b.HiddenAll = hidden;
            b.GateSteps = StepViews.Of(gates, steps, batch, ref b.GateStepCache);
            b.RecurrentSteps = StepViews.Of(recurrent, steps, batch, ref b.RecurrentStepCache);
            b.HiddenSteps = StepViews.Of(hidden, steps, batch, ref b.HiddenStepCache);
            b.InitialHidden = b.InitialHiddenBuffer.Get(device, batch, HiddenSize);
            b.HasInitialHidden = initialState is not null;
            if (initialState is null)
            {
                Ops.Fill(b.InitialHidden, 0f);
            }
            else
            {
                Ops.Copy(initialState.Hidden[k], b.InitialHidden);
            }

            // 1. gi = x·W_ihᵀ + b_ih for all steps at once.
            if (k == 0 && savedIndices is not null)
            {
                Ops.GatherColumns(p.WeightIh.Value, savedIndices, gates);
            }
            else
            {
                Ops.Gemm(layerInput!, false, p.WeightIh.Value, true, gates);
            }

            Ops.AddBias(gates, p.BiasIh.Value);

            // 2. gh starts as b_hh in every row; each step adds h_{t−1}·W_hhᵀ (none at t = 0 from a zero state).
            Ops.Fill(recurrent, 0f);
            Ops.AddBias(recurrent, p.BiasHh.Value);

            // 3. Per step: the recurrent GEMM, then the fused cell (gates over gi); all steps in one call where the device
            //    fuses them (the cpu), step by step otherwise.
            if (!Ops.TryGruRecurrenceForward(gates, recurrent, hidden, b.InitialHidden, b.HasInitialHidden, p.WeightHh.Value, steps, batch))
            {
                for (int t = 0; t < steps; t++)
                {
                    var hPrev = t > 0 ? b.HiddenSteps[t - 1] : b.InitialHidden;
                    if (t > 0 || b.HasInitialHidden)
                    {
                        Ops.Gemm(hPrev, false, p.WeightHh.Value, true, b.RecurrentSteps[t], 1f, 1f);
                    }

                    Ops.GruCellForward(b.GateSteps[t], b.RecurrentSteps[t], hPrev, b.GateSteps[t], b.HiddenSteps[t]);
                }
            }

            if (finalState is not null)
            {
                Ops.Copy(b.HiddenSteps[steps - 1], finalState.Hidden[k]);
            }

            output = b.Dropout.Forward(hidden, training, dropoutSeed, (dropoutStream * 64) + (ulong)k);
            b.Output = output;
            layerInput = output;
        }

        return output;
    }

    private void CheckSizes(int rows, int steps, int batch, GruState? initialState, GruState? finalState)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (rows != steps * batch)
        {
            throw new ArgumentException($"The GRU input has {rows} rows but steps × batch = {steps} × {batch} = {steps * batch}.");
        }

        CheckState(initialState, batch);
        CheckState(finalState, batch);
    }

    private void CheckState(GruState? state, int batch)
    {
        if (state is not null && (state.Batch != batch || state.Hidden.Count != NumLayers || state.Hidden[0].Columns != HiddenSize))
        {
            throw new ArgumentException($"The GRU state is for batch {state.Batch}, {state.Hidden.Count} layers and hidden size {state.Hidden[0].Columns}, but the input has batch {batch} and the GRU {NumLayers} layers of {HiddenSize}.");
        }
    }

    private sealed record LayerParameters(Parameter WeightIh, Parameter WeightHh, Parameter BiasIh, Parameter BiasHh);

    /// <summary>What one layer saves in Forward for Backward, and its reused buffers.</summary>
    private sealed class LayerBuffers(float dropout) : IDisposable
    {
        public Workspace Gates { get; } = new();

        public Workspace Recurrent { get; } = new();

        public Workspace Hidden { get; } = new();

        public Workspace InitialHiddenBuffer { get; } = new();

        public Dropout Dropout { get; } = new(dropout);

        public Tensor[]? GateSteps { get; set; }

        public Tensor[]? RecurrentSteps { get; set; }

        public Tensor[]? HiddenSteps { get; set; }

        public Tensor? GatesAll { get; set; }

        public Tensor? RecurrentAll { get; set; }

        public Tensor? HiddenAll { get; set; }

        public Tensor? InitialHidden { get; set; }

        public bool HasInitialHidden { get; set; }

        public Tensor? Output { get; set; }

#pragma warning disable SA1401 // Passed by ref to the view cache.
        public Tensor[]? GateStepCache;
        public Tensor[]? RecurrentStepCache;
        public Tensor[]? HiddenStepCache;
        public Tensor[]? GradientStepCache;
        public Tensor? LaterRecurrentGradients;
        public Tensor? EarlierHidden;
#pragma warning restore SA1401

        public void Dispose()
        {
            Gates.Dispose();
            Recurrent.Dispose();
            Hidden.Dispose();
            InitialHiddenBuffer.Dispose();
            Dropout.Dispose();
        }
    }
}
