using System.Globalization;
using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// What the multi-layer recurrent modules share, as torch.nn.RNNBase: the stack of layers with PyTorch's parameter
/// names and layout (<c>weight_ih_l{k}</c> [G·H, In], <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c>,
/// <c>bias_hh_l{k}</c> [G·H], G gates per cell), dropout on every layer's output but the last (in training only), the
/// state handling, and the plumbing of Forward and Backward around the cell. <see cref="Lstm"/> and <see cref="Gru"/>
/// add only their cell: its gate count, its kernels and its state.
/// <para>
/// Sequences are time-major inside: row t·B + b of an input or output belongs to step t of sequence b. Forward and
/// backward follow the cuDNN recipe (Appleyard et al. 2016): one GEMM (or, for one-hot input, one gather) projects the
/// input of all steps at once; the cell runs its recurrence over the steps; backward runs the cell's recurrence in
/// reverse, writing each step's gate gradients over the gates it saved, and dW_ih, dW_hh and the input gradient are each
/// one large GEMM after it. Every buffer is owned by the module and reused.
/// </para>
/// <para>
/// As a module it takes [T, B, In] (or token indices [T, B], read as one-hot input of width In) and returns the last
/// layer's h for every step, [T, B, H]; with <see cref="BatchFirst"/>, [B, T, In] (or [B, T]) and [B, T, H], reordered
/// to time-major rows on the way in and back on the way out; with <see cref="Bidirectional"/>, [.., 2H], each step's
/// forward h then its reverse h. It starts from the cell's initial state (zeros when there is none) or, with
/// <see cref="CarryState"/>, from the previous batch's final state, and leaves its final state for the next call; a
/// state is [layers, B, H] in either layout ([2·layers, B, H] when bidirectional). No gradient flows into the initial state: carrying the state
/// across batches is truncated backpropagation through time.
/// </para>
/// </summary>
public abstract class RnnBase : Module
{
    private readonly string cellName;
    private readonly int gateCount;
    private readonly RnnLayer[] layers;
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly FlatIndexView flatIndices = new();
    private readonly BatchFirstRows? batchFirstRows;
    private readonly BidirectionalRows? bidirectionalRows;
    private readonly Workspace hiddenGradient = new();
    private readonly Workspace inputGradientBuffer = new();
    private readonly Workspace wavefrontHiddenGradient = new();
    private Tensor? savedInputShaped;
    private ulong moduleSeed;
    private ulong moduleStream;
    private readonly RecentViews<RnnState> finalStateRows = new();
    private RnnState? finalState;

    // The final states' buffers, for the largest batch seen: the final state of a smaller batch is a view of its first
    // rows (finalStateRows), so a short last batch, or batch sizes in turn, allocate nothing once each has been seen.
    private RnnState? finalStates;

    // How many times Forward or CarryFrom has written the final states' buffers: a final state handed out records it
    // (RnnState.HandOut), so one that a later write has overwritten, through itself or through the rows it shares, is
    // refused instead of being read as a stale or mixed state.
    private long finalStateWrites;
    private IndexTensor? savedIndices;
    private Tensor? savedInput;
    private int steps;
    private int batch;
    private bool wavefrontRan;
    private bool savedStateUsed;
    private bool carryState;

    private protected RnnBase(string cellName, int gateCount, int inputSize, int hiddenSize, int numLayers, float dropout, bool batchFirst, bool bidirectional)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(inputSize);
        ArgumentChecks.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentChecks.ThrowIfNegativeOrZero(numLayers);
        if ((long)gateCount * hiddenSize > int.MaxValue)
        {
            // The gates of one row are gateCount·H values wide; past int they would wrap to a negative width.
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{cellName} gates ({gateCount} × hidden_size) must fit one tensor row: hidden_size is at most {int.MaxValue / gateCount}; got {hiddenSize}.");
        }

        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {dropout}."));
        }

        this.cellName = cellName;
        this.gateCount = gateCount;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        DropoutProbability = dropout;
        BatchFirst = batchFirst;
        Bidirectional = bidirectional;
        Directions = bidirectional ? 2 : 1;
        batchFirstRows = batchFirst ? new BatchFirstRows() : null;
        bidirectionalRows = bidirectional ? new BidirectionalRows(numLayers) : null;

        // One entry per layer and direction, in PyTorch's order (l0, l0_reverse, l1, ...); a layer's dropout is its
        // forward entry's, applied to the layer's whole output.
        layers = new RnnLayer[numLayers * Directions];
        for (int j = 0; j < layers.Length; j++)
        {
            layers[j] = new RnnLayer(j / Directions < numLayers - 1 ? dropout : 0f);
        }
    }

    /// <summary>Input features (the vocabulary size for one-hot input).</summary>
    public int InputSize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Dropout on the outputs of every layer but the last, in training.</summary>
    public float DropoutProbability { get; }

    /// <summary>
    /// Whether the module takes and returns sequences batch-first, [B, T, In] (token indices [B, T]) → [B, T, H], as
    /// PyTorch's batch_first=True; time-major, [T, B, In] → [T, B, H], when false (2H in place of H when
    /// <see cref="Bidirectional"/>). The states are [layers, B, H] either way ([2·layers, B, H] when bidirectional).
    /// </summary>
    public bool BatchFirst { get; }

    /// <summary>
    /// Whether every layer also runs over the sequence in reverse, as PyTorch's bidirectional=True: the output is
    /// [T, B, 2H] (or [B, T, 2H]), each step's forward h then its reverse h; a layer above the first takes 2H inputs; the
    /// states are [2·layers, B, H], ordered layer 0 forward, layer 0 reverse, layer 1 forward, ...; and the parameters of
    /// the reverse direction are <c>weight_ih_l{k}_reverse</c> etc.
    /// </summary>
    public bool Bidirectional { get; }

    /// <summary>
    /// When true, each Forward starts from the previous Forward's final state (zeros the first time, or when the batch
    /// size changes), and no gradient flows back into it: truncated backpropagation through time.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set to true on a <see cref="Bidirectional"/> module, whose reverse direction ends at the start of the batch.</exception>
    public bool CarryState
    {
        get => carryState;
        set
        {
            if (value)
            {
                ThrowIfBidirectional(nameof(CarryState));
            }

            carryState = value;
        }
    }

    /// <summary>1, or 2 for a <see cref="Bidirectional"/> module.</summary>
    private protected int Directions { get; }

    /// <summary>The entries of a state: one per layer and direction.</summary>
    private protected int StateLayers => NumLayers * Directions;

    /// <summary>The width of the output: H, or 2H for a <see cref="Bidirectional"/> module.</summary>
    private int OutputSize => Directions * HiddenSize;

    /// <summary>The state the next Forward starts from, copied at its start; null for zeros. Typed by the cell.</summary>
    internal RnnState? Initial { get; set; }

    /// <summary>
    /// The state after the last step of the last Forward, in the module's buffers until the next Forward; null before the
    /// first. Handed out as an object that records the writes so far (<see cref="RnnState.HandOut"/>), so that it is
    /// refused as a starting state once a later Forward overwrites it, whether or not FinalState is read again since.
    /// </summary>
    internal RnnState? Final => finalState?.HandOut(this, finalStateWrites);

    /// <summary>How many times Forward or CarryFrom has written the final states' buffers.</summary>
    internal long FinalStateWrites => finalStateWrites;

    /// <summary>Forgets the carried state, so the next Forward starts from the initial state or zeros.</summary>
    public void ResetState() => finalState = null;

    /// <summary>
    /// Makes a copy of <paramref name="state"/>, of the cell's kind, the state carried into the next Forward of its batch
    /// size, as if the previous Forward had ended with it (with <see cref="CarryState"/> set): how stateful training
    /// resumed in the middle of an epoch continues exactly.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is of another kind or size, on another device, or a FinalState that a later Forward has overwritten; nothing changed.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="state"/> is disposed; nothing changed.</exception>
    public void CarryFrom(RnnState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ThrowIfBidirectional(nameof(CarryFrom));
        CheckGivenState(state, state.Batch, nameof(state));
        EndState(state.HiddenTensors[0].Device, state.Batch).CopyFrom(state);
        finalStateWrites++;
    }

    /// <summary>
    /// h of the last layer for every step, [T, B, H], for dense input [T, B, In]; [B, T, H] for [B, T, In] with
    /// <see cref="BatchFirst"/>; [.., 2H] when <see cref="Bidirectional"/>, each step's forward h then its reverse h.
    /// </summary>
    /// <exception cref="ArgumentException">The input is of another shape or on another device, has no step or no sequence, its gates would be more than one tensor holds, or the InitialState does not fit it (see <see cref="RnnState"/>); nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The input, or the state the Forward would start from, is disposed; nothing changed.</exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        var (steps, batch) = SequenceShape(input, 3, BatchFirst ? "[B, T, In]" : "[T, B, In]");
        var x = inputMatrix.Matrix(input, steps * batch, input.Shape[2]);
        CheckInputWidth(x);
        var start = StartState(batch);

        // Every refusal is above, before the module changes anything: a refused input leaves it, its FinalState, the
        // buffers a FinalState views and what Backward would read, as it was.
        if (batchFirstRows is not null)
        {
            x = batchFirstRows.InputToTimeMajor(x, steps, batch);
        }

        savedInputShaped = input;
        var y = Forward(x, steps, batch, Training, moduleSeed, moduleStream++, start, EndState(input.Device, batch));
        if (batchFirstRows is not null)
        {
            y = batchFirstRows.OutputToBatchFirst(y);
        }

        return LastOutput = outputShaped.Like(y, input, OutputSize);
    }

    /// <summary>
    /// h of the last layer for every step, [T, B, H], for token indices [T, B] read as one-hot input of width In; [B, T, H]
    /// for [B, T] with <see cref="BatchFirst"/>; [.., 2H] when <see cref="Bidirectional"/>, each step's forward h then its
    /// reverse h.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside [0, <see cref="InputSize"/>); nothing changed.</exception>
    /// <exception cref="ArgumentException">The input is of another shape or on another device, has no step or no sequence, its gates would be more than one tensor holds, or the InitialState does not fit it (see <see cref="RnnState"/>); nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The input, or the state the Forward would start from, is disposed; nothing changed.</exception>
    public override Tensor Forward(IndexTensor input)
    {
        ThrowIfModuleDisposed();
        var (steps, batch) = SequenceShape(input, 2, BatchFirst ? "token indices [B, T]" : "token indices [T, B]");
        var start = StartState(batch);
        var ids = flatIndices.Of(input);

        // Checked here, before the module changes anything (see the dense overload), and so that a bad id is named at its
        // position in the caller's layout, not in a reordered copy.
        ids.ThrowIfAnyColumnOutside(InputSize);
        savedInputShaped = null;
        if (batchFirstRows is not null)
        {
            ids = batchFirstRows.IdsToTimeMajor(ids, steps, batch);
        }

        var y = Forward(ids, steps, batch, Training, moduleSeed, moduleStream++, start, EndState(input.Device, batch));
        if (batchFirstRows is not null)
        {
            y = batchFirstRows.OutputToBatchFirst(y);
        }

        return LastOutput = outputShaped.Append(y, input, OutputSize);
    }

    /// <summary>
    /// From dL/d(output) [T, B, H] ([B, T, H] with <see cref="BatchFirst"/>; [.., 2H] when <see cref="Bidirectional"/>;
    /// used as scratch), accumulates every parameter
    /// gradient; returns dL/d(input) in the input's layout, or null for indices. It overwrites the activations Forward
    /// saved, so it runs once per Forward, as PyTorch's backward frees the graph.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Forward ran, or Backward already ran for the last Forward.</exception>
    public override Tensor? Backward(Tensor outputGradient) => Backward(outputGradient, computeInputGradient: true);

    /// <summary>As <see cref="Backward(Tensor)"/>; with <paramref name="computeInputGradient"/> false, layer 0's input-gradient GEMM (both directions' when bidirectional) is not run and null is returned.</summary>
    /// <exception cref="InvalidOperationException">No Forward ran, or Backward already ran for the last Forward.</exception>
    public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
    {
        CheckOutputGradient(outputGradient);
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, steps * batch, OutputSize);
        if (batchFirstRows is not null)
        {
            dy = batchFirstRows.OutputGradientToTimeMajor(dy);
        }

        var dx = BackwardSequence(dy, computeInputGradient);
        if (dx is not null && batchFirstRows is not null)
        {
            dx = batchFirstRows.InputGradientToBatchFirst(dx);
        }

        return dx is null || savedInputShaped is null ? dx : inputGradientShaped.Like(dx, savedInputShaped, InputSize);
    }

    /// <summary>Runs the stack on one-hot input given as indices [T·B], time-major (the layer form, without the module's state handling).</summary>
    /// <param name="indices">Token ids in [0, InputSize), row t·B + b.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="training">Whether to apply dropout.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks.</param>
    /// <param name="dropoutStream">Distinguishes the masks of successive batches (e.g. the step counter).</param>
    /// <param name="initialState">The state to start from, of the cell's kind; zeros when null. It may be <paramref name="finalState"/>.</param>
    /// <param name="finalState">When given, receives the state after the last step.</param>
    /// <returns>The last layer's h for every step, [T·B, H] ([T·B, 2H] when bidirectional), owned by the module until the next Forward.</returns>
    internal Tensor Forward(IndexTensor indices, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, RnnState? initialState = null, RnnState? finalState = null)
    {
        CheckSizes((int)indices.Length, steps, batch, initialState, finalState);
        savedIndices = indices;
        savedInput = null;
        return LastOutput = Run(indices.Device, steps, batch, training, dropoutSeed, dropoutStream, initialState, finalState);
    }

    /// <summary>Runs the stack on dense input [T·B, InputSize], time-major. See the one-hot overload for the other arguments.</summary>
    internal Tensor Forward(Tensor input, int steps, int batch, bool training, ulong dropoutSeed = 0, ulong dropoutStream = 0, RnnState? initialState = null, RnnState? finalState = null)
    {
        CheckInputWidth(input);
        CheckSizes(input.Rows, steps, batch, initialState, finalState);
        savedIndices = null;
        savedInput = input;
        return LastOutput = Run(input.Device, steps, batch, training, dropoutSeed, dropoutStream, initialState, finalState);
    }

    /// <summary>
    /// Backpropagates through time from dL/d(output) [T·B, H] (which is overwritten as scratch, as are the saved
    /// gates: once per Forward), accumulating every parameter gradient. Returns dL/d(input) [T·B, InputSize] for dense
    /// input, or null for one-hot input or when <paramref name="computeInputGradient"/> is false (its GEMM not run).
    /// </summary>
    internal Tensor? BackwardSequence(Tensor outputGradient, bool computeInputGradient)
    {
        if (steps == 0)
        {
            throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");
        }

        int rows = steps * batch;
        if (outputGradient.Rows != rows || outputGradient.Columns != OutputSize)
        {
            throw new ArgumentException($"The {cellName} output gradient must be [{rows}, {OutputSize}] but is {outputGradient.ShapeText}.", nameof(outputGradient));
        }

        // The cells write each step's gate gradients over the gates Forward saved, just after reading them: the writes
        // land in lines already in cache instead of a second [T·B, G·H] buffer that must first be read from memory,
        // and no such buffer is held. So, as PyTorch frees its graph in backward, one Forward allows one Backward.
        if (savedStateUsed)
        {
            throw new InvalidOperationException($"{GetType().Name}.Backward was already called for this Forward; its saved activations are spent. Run Forward again.");
        }

        savedStateUsed = true;
        if (bidirectionalRows is not null)
        {
            return BackwardBidirectional(bidirectionalRows, outputGradient, computeInputGradient);
        }

        Tensor? dH = outputGradient;
        Tensor? inputGradient = null;
        for (int k = NumLayers - 1; k >= 0 && dH is not null; k--)
        {
            // This layer and the one below in one wavefront where the device does that (the cpu).
            if (k > 0 && TryWavefrontBackward(k, dH) is var (dIn, dRec, belowIn, belowRec))
            {
                AddWeightGradients(k, dIn, dRec);
                AddWeightGradients(k - 1, belowIn, belowRec);
                dH = InputGradient(k - 1, belowIn, computeInputGradient, ref inputGradient);
                k--;
                continue;
            }

            var layer = layers[k];
            var dHSteps = StepViews.Of(dH, steps, batch, layer.GradientStepCache);
            var (dInputProjection, dRecurrentProjection) = BackwardCells(k, layer, dH, dHSteps, steps, batch);
            AddWeightGradients(k, dInputProjection, dRecurrentProjection);
            dH = InputGradient(k, dInputProjection, computeInputGradient, ref inputGradient);
        }

        return inputGradient;
    }

    /// <summary>
    /// The layer form: registers <c>{prefix}.weight_ih_l0</c> etc. in a collection the caller owns and builds, for a
    /// hand-assembled stack outside a module tree (the kernel and layer tests); such a module cannot join a tree.
    /// </summary>
    internal void CreateParametersIn(ParameterCollection parameters, string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        CreateParameters(parameters, prefix, 0);
    }

    /// <summary>Its parameters' device, which is its tree's once built and, in the layer form, its collection's.</summary>
    private protected sealed override Device? ModuleDevice => layers[0].HasParameters ? layers[0].WeightIh.Value.Device : null;

    /// <summary>Registers <c>weight_ih_l{k}</c> [G·H, In], <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [G·H] with PyTorch's default initialisation.</summary>
    protected sealed override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (layers[0].HasParameters)
        {
            throw new InvalidOperationException($"This {cellName} already has its parameters in a collection (the layer form); it cannot join a module tree.");
        }

        // nn.LSTM and nn.GRU initialise alike: every weight and bias from U(−1/√H, 1/√H).
        var init = Initializers.RnnDefault(HiddenSize);
        int gateRows = gateCount * HiddenSize;
        for (int j = 0; j < layers.Length; j++)
        {
            int k = j / Directions;
            int inK = k == 0 ? InputSize : OutputSize;
            string suffix = j % Directions == 1 ? $"l{k}_reverse" : $"l{k}";
            layers[j].Bind(
                parameters.Add(JoinName(prefix, $"weight_ih_{suffix}"), [gateRows, inK], init),
                parameters.Add(JoinName(prefix, $"weight_hh_{suffix}"), [gateRows, HiddenSize], init),
                parameters.Add(JoinName(prefix, $"bias_ih_{suffix}"), [gateRows], init),
                parameters.Add(JoinName(prefix, $"bias_hh_{suffix}"), [gateRows], init));
        }
    }

    /// <inheritdoc/>
    protected sealed override void OnRandomState(ulong seed, ulong stream)
    {
        moduleSeed = seed;
        moduleStream = stream;
    }

    /// <summary>Frees the module's buffers (its parameters belong to the root module's collection).</summary>
    protected sealed override void DisposeBuffers()
    {
        finalStates?.Dispose();
        finalStateRows.Clear();
        foreach (var layer in layers)
        {
            layer.Dispose();
        }

        hiddenGradient.Dispose();
        inputGradientBuffer.Dispose();
        batchFirstRows?.Dispose();
        bidirectionalRows?.Dispose();
        wavefrontHiddenGradient.Dispose();
        DisposeCellBuffers();
    }

    /// <summary>A zero state of the cell's kind for <paramref name="batch"/> sequences.</summary>
    private protected abstract RnnState NewState(Device device, int batch);

    /// <summary>The type of the cell's states (<see cref="LstmState"/> for an LSTM).</summary>
    private protected abstract Type StateKind { get; }

    /// <summary>
    /// The cell's preparation of layer k, after the stack has sized the layer's buffers and copied its initial h in: its
    /// own buffers, the rest of its initial state (beyond h) from <paramref name="initialState"/>, and its biases.
    /// </summary>
    private protected abstract void PrepareCells(int k, RnnLayer layer, RnnState? initialState, int steps, int batch);

    /// <summary>The bias [G·H] the cell adds to layer k's input projection, available once the layer is prepared.</summary>
    private protected abstract Tensor InputBias(int k, RnnLayer layer);

    /// <summary>
    /// The cell's recurrence over every step of layer k, from the biased input projection in <c>layer.GatesAll</c> and
    /// the initial state: h into <c>layer.HiddenAll</c>, and what its backward needs kept.
    /// </summary>
    private protected abstract void ForwardCells(int k, RnnLayer layer, int steps, int batch);

    /// <summary>Writes the rest of layer k's final state (beyond h) to <paramref name="finalState"/>; nothing for a cell whose state is h.</summary>
    private protected virtual void CopyFinalCells(int k, RnnState finalState)
    {
    }

    /// <summary>
    /// Runs the recurrences of layers k and k + 1 as one wavefront where the device does that, after both are prepared
    /// and layer k's input projection is biased: layer k + 1's input projection (from <paramref name="upperInput"/>, layer
    /// k's h after the dropout <paramref name="mask"/>, which the kernel writes) and both recurrences. False, with nothing
    /// done, where the device runs the layers one after the other (the default).
    /// </summary>
    private protected virtual bool TryWavefrontForward(int k, RnnLayer lower, RnnLayer upper, Tensor upperInput, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch) => false;

    /// <summary>
    /// The backward of <see cref="TryWavefrontForward"/> for layers k and k − 1, from layer k's dH (scratch) with zero
    /// carried gradients: writes the layer below's dH to <paramref name="belowGradient"/> and returns both layers' d(input
    /// projection) and d(recurrent projection), as <see cref="BackwardCells"/> does for one. Null, with nothing done,
    /// where the device runs the layers one after the other (the default).
    /// </summary>
    private protected virtual (Tensor InputProjection, Tensor RecurrentProjection, Tensor BelowInputProjection, Tensor BelowRecurrentProjection)? TryWavefrontBackward(
        int k, RnnLayer upper, RnnLayer lower, Tensor dH, Tensor belowGradient, (float Probability, ulong Seed, ulong Stream) mask, int steps, int batch) => null;

    /// <summary>
    /// The cell's part of one layer's Backward: from dL/dh of every step (<paramref name="dH"/>, scratch), runs the
    /// recurrence in reverse. Returns dL/d(input projection) and dL/d(recurrent projection) [T·B, G·H], from which the
    /// stack takes dW_hh, the bias gradients (<see cref="AddBiasGradients"/>), dW_ih and the input gradient.
    /// </summary>
    private protected abstract (Tensor InputProjection, Tensor RecurrentProjection) BackwardCells(int k, RnnLayer layer, Tensor dH, Tensor[] dHSteps, int steps, int batch);

    /// <summary>Accumulates layer k's bias gradients from what <see cref="BackwardCells"/> returned.</summary>
    private protected abstract void AddBiasGradients(int k, RnnLayer layer, Tensor dInputProjection, Tensor dRecurrentProjection);

    /// <summary>Frees the cell's own buffers.</summary>
    private protected abstract void DisposeCellBuffers();

    // (T, B) of a module input of the given rank.
    private (int Steps, int Batch) SequenceShape<T>(DeviceTensor<T> input, int rank, string expected)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!layers[0].HasParameters)
        {
            throw NotBuiltError();
        }

        if (input.Rank != rank)
        {
            throw new ArgumentException($"The {cellName} module takes {expected} ({(BatchFirst ? "batch-first" : "time-major")}); got {input.ShapeText}.", nameof(input));
        }

        // Checked here, before the module changes anything: Ops would refuse these too, but only after the module's
        // buffers, its final state's among them, had been resized for the input.
        CheckInputDevice(input);
        var (steps, batch) = BatchFirst ? (input.Shape[1], input.Shape[0]) : (input.Shape[0], input.Shape[1]);

        // PyTorch refuses zero steps too, but returns an empty output for a batch of 0; a module here always has a final
        // state to leave, and one for no sequence would fit no later Forward.
        if (steps < 1 || batch < 1)
        {
            string pyTorch = batch < 1 ? "; PyTorch's returns an empty output for a batch of 0" : string.Empty;
            throw new ArgumentException($"The {cellName} takes at least one step and one sequence, but its input {input.ShapeText} ({expected}) has {steps} steps and a batch of {batch}{pyTorch}.", nameof(input));
        }

        // The gates of every step, [T·B, G·H], are the module's largest buffer; their T·B rows, at most a third of
        // int.MaxValue, are then within what a GEMM takes.
        long gates = (long)steps * batch * gateCount * HiddenSize;
        if (gates > int.MaxValue)
        {
            throw new ArgumentException($"The {cellName} on a tensor of shape {input.ShapeText} needs T·B·{gateCount}H = {gates} values for its gates, more than one tensor holds ({int.MaxValue}).", nameof(input));
        }

        return (steps, batch);
    }

    // The input as rows of features, [rows, InputSize].
    private void CheckInputWidth(Tensor input)
    {
        if (input.Columns != InputSize)
        {
            throw new ArgumentException($"The {cellName} expects {InputSize} input features but got {input.ShapeText}.", nameof(input));
        }
    }

    /// <summary>
    /// Adds layer k's weight and bias gradients from its d(input projection) and d(recurrent projection) [T·B, G·H]:
    /// after the recurrence, dW_hh and dW_ih are each one GEMM over all steps (dW_ih a scatter for one-hot input).
    /// When the two are one tensor (the LSTM's d(pre)) and the input is dense, steps 1…T−1 of both go through one
    /// <see cref="Ops.GemmSharedA"/>, which reads that d(pre) once, and dW_ih takes step 0 on its own.
    /// </summary>
    private void AddWeightGradients(int k, Tensor dInputProjection, Tensor dRecurrentProjection)
    {
        var layer = layers[k];
        int rows = steps * batch;
        bool oneHot = layer.Ids is not null;
        var input = layer.Input;
        bool sharedA = input is not null && steps > 1 && ReferenceEquals(dInputProjection, dRecurrentProjection);
        if (steps > 1)
        {
            var laterGradients = layer.LaterRecurrentGradients.Rows(dRecurrentProjection, batch, rows - batch);
            var earlierHidden = layer.EarlierHidden.Rows(layer.HiddenAll!, 0, rows - batch);
            if (sharedA)
            {
                var laterInput = layer.LaterInput.Rows(input!, batch, rows - batch);
                Ops.GemmSharedA(laterGradients, true, laterInput, layer.WeightIh.Gradient, earlierHidden, layer.WeightHh.Gradient, 1f, 1f);
            }
            else
            {
                Ops.Gemm(laterGradients, true, earlierHidden, false, layer.WeightHh.Gradient, 1f, 1f);
            }
        }

        if (layer.HasInitialHidden)
        {
            var firstGradients = layer.FirstRecurrentGradients.Rows(dRecurrentProjection, 0, batch);
            Ops.Gemm(firstGradients, true, layer.InitialHidden!, false, layer.WeightHh.Gradient, 1f, 1f);
        }

        AddBiasGradients(k, layer, dInputProjection, dRecurrentProjection);
        if (oneHot)
        {
            Ops.ScatterAddColumns(dInputProjection, layer.Ids!, layer.WeightIh.Gradient);
        }
        else if (sharedA)
        {
            // Steps 1…T−1 of dW_ih came with dW_hh; step 0 is left.
            var firstGradients = layer.FirstRecurrentGradients.Rows(dInputProjection, 0, batch);
            Ops.Gemm(firstGradients, true, layer.FirstInput.Rows(input!, 0, batch), false, layer.WeightIh.Gradient, 1f, 1f);
        }
        else
        {
            Ops.Gemm(dInputProjection, true, input!, false, layer.WeightIh.Gradient, 1f, 1f);
        }
    }

    /// <summary>
    /// dL/d(layer k's input) from its d(input projection): the layer below's dH, or null at layer 0, where the module's
    /// own input gradient (for dense input, when <paramref name="computeInputGradient"/>) goes to <paramref name="inputGradient"/>.
    /// </summary>
    private Tensor? InputGradient(int k, Tensor dInputProjection, bool computeInputGradient, ref Tensor? inputGradient)
    {
        var weightIh = layers[k].WeightIh.Value;
        var device = dInputProjection.Device;
        int rows = steps * batch;
        if (k == 0)
        {
            if (savedIndices is null && computeInputGradient)
            {
                inputGradient = inputGradientBuffer.Get(device, rows, InputSize);
                Ops.Gemm(dInputProjection, false, weightIh, false, inputGradient);
            }

            return null;
        }

        // dH of layer k is dead now; reuse a module-owned buffer for the layer below's dH.
        var below = hiddenGradient.Get(device, rows, HiddenSize);
        Ops.Gemm(dInputProjection, false, weightIh, false, below);
        return layers[k - 1].Dropout.Backward(below);
    }

    /// <summary>
    /// Throws as the next Forward of <paramref name="batch"/> sequences would if <paramref name="initial"/> were its
    /// InitialState (unless it carries its own state), so a caller that sets the InitialState for one Forward can refuse
    /// a state that does not fit before it changes anything of its own.
    /// </summary>
    internal void CheckInitialState(RnnState? initial, int batch)
    {
        if (!(CarryState && finalState is not null && finalState.Batch == batch))
        {
            CheckGivenState(initial, batch);
        }
    }

    // The state a Forward of the module starts from: the carried one, or the initial one, refused (before the Forward
    // changes anything) when it cannot start a Forward of this batch (CheckGivenState).
    private RnnState? StartState(int batch)
    {
        if (CarryState && finalState is not null && finalState.Batch == batch)
        {
            if (finalState.IsDisposed)
            {
                throw new ObjectDisposedException(objectName: null, $"The {cellName} carries its FinalState into this Forward, but that state has been disposed: call ResetState() to start from zeros.");
            }

            return finalState;
        }

        CheckGivenState(Initial, batch);
        return Initial;
    }

    private RnnState EndState(Device device, int batch)
    {
        if (finalState is not null && finalState.Batch == batch && !finalState.IsDisposed)
        {
            return finalState;
        }

        if (finalStates is null || finalStates.Batch < batch || !ReferenceEquals(finalStates.HiddenTensors[0].Device, device) || finalStates.IsDisposed)
        {
            finalStates?.Dispose();
            finalStates = NewState(device, batch);
            finalStateRows.Clear();
        }

        finalState = finalStates.Batch == batch ? finalStates
            : finalStateRows.Find(finalStates, 0, [batch]) is { IsDisposed: false } rows ? rows
            : finalStateRows.Add(finalStates, 0, [batch], finalStates.FirstRows(batch));
        return finalState;
    }

    private Tensor Run(Device device, int steps, int batch, bool training, ulong dropoutSeed, ulong dropoutStream, RnnState? initialState, RnnState? finalState)
    {
        this.steps = steps;
        this.batch = batch;
        wavefrontRan = false;
        savedStateUsed = false;
        if (bidirectionalRows is not null)
        {
            return RunBidirectional(bidirectionalRows, device, training, dropoutSeed, dropoutStream, initialState, finalState);
        }

        Tensor? layerInput = savedInput;
        Tensor output = null!;
        bool ranWithLayerBelow = false;
        int preparedAhead = -1;
        for (int k = 0; k < NumLayers; k++)
        {
            var layer = layers[k];
            layer.Input = layerInput;
            layer.Ids = k == 0 ? savedIndices : null;
            if (!ranWithLayerBelow)
            {
                if (preparedAhead != k)
                {
                    PrepareLayer(k, device, initialState);
                }

                ProjectInput(k, layer);

                // This layer and the next in one wavefront where the device does that (the cpu); layer k + 1, prepared
                // for it, is not prepared again where the device declines.
                if (k + 1 < NumLayers)
                {
                    PrepareLayer(k + 1, device, initialState);
                    preparedAhead = k + 1;
                    var upperInput = layer.Dropout.Target(layer.HiddenAll!, training, dropoutSeed, DropoutStream(dropoutStream, k));
                    if (TryWavefrontForward(k, layer, layers[k + 1], upperInput, layer.Dropout.AppliedMask, steps, batch))
                    {
                        wavefrontRan = true;
                        ranWithLayerBelow = true;
                        CopyFinalState(k, finalState);
                        layer.Output = upperInput;
                        layerInput = upperInput;
                        continue;
                    }
                }

                ForwardCells(k, layer, steps, batch);
            }

            ranWithLayerBelow = false;
            CopyFinalState(k, finalState);
            output = layer.Dropout.Forward(layer.HiddenAll!, training, dropoutSeed, DropoutStream(dropoutStream, k));
            layer.Output = output;
            layerInput = output;
        }

        return output;
    }

    // Each layer runs its forward direction on its input and its reverse direction on the input with the steps reversed,
    // one after the other, each as one unidirectional layer (the two-layer wavefront is for unidirectional stacks); the
    // layer's output interleaves the two, and its dropout applies to that whole output, as PyTorch's.
    private Tensor RunBidirectional(BidirectionalRows rows, Device device, bool training, ulong dropoutSeed, ulong dropoutStream, RnnState? initialState, RnnState? finalState)
    {
        rows.Prepare(device, steps, batch);
        Tensor? layerInput = savedInput;
        Tensor output = null!;
        for (int k = 0; k < NumLayers; k++)
        {
            var forward = layers[2 * k];
            var reverse = layers[(2 * k) + 1];
            forward.Input = layerInput;
            forward.Ids = k == 0 ? savedIndices : null;
            reverse.Input = layerInput is null ? null : rows.ReversedInput(k, layerInput);
            reverse.Ids = forward.Ids is null ? null : rows.ReversedIds(forward.Ids);
            for (int j = 2 * k; j < (2 * k) + 2; j++)
            {
                PrepareLayer(j, device, initialState);
                ProjectInput(j, layers[j]);
                ForwardCells(j, layers[j], steps, batch);
                CopyFinalState(j, finalState);
            }

            output = forward.Dropout.Forward(rows.Interleave(k, HiddenPair(2 * k, device)), training, dropoutSeed, DropoutStream(dropoutStream, k));
            forward.Output = output;
            layerInput = output;
        }

        return output;
    }

    // The backward of RunBidirectional, layer by layer from the top: the layer's output gradient split into its two
    // directions' dL/dh, each direction's recurrence backward and weight gradients, and dL/d(layer input) the sum of the
    // forward direction's and the reverse direction's with its steps put back in order.
    private Tensor? BackwardBidirectional(BidirectionalRows rows, Tensor outputGradient, bool computeInputGradient)
    {
        int count = steps * batch;
        var device = outputGradient.Device;
        Tensor? dY = outputGradient;
        Tensor? inputGradient = null;
        for (int k = NumLayers - 1; k >= 0 && dY is not null; k--)
        {
            var pair = rows.Split(k, dY);
            for (int j = 2 * k; j < (2 * k) + 2; j++)
            {
                var layer = layers[j];
                var dH = layer.GradientRows.Rows(pair, (j - (2 * k)) * count, count);
                var dHSteps = StepViews.Of(dH, steps, batch, layer.GradientStepCache);
                var (dInputProjection, dRecurrentProjection) = BackwardCells(j, layer, dH, dHSteps, steps, batch);
                AddWeightGradients(j, dInputProjection, dRecurrentProjection);
                layer.InputProjectionGradient = dInputProjection;
            }

            var forward = layers[2 * k];
            var reverse = layers[(2 * k) + 1];
            if (forward.Ids is not null || (k == 0 && !computeInputGradient))
            {
                break;
            }

            // dL/dx = d(pre)·W_ih of the forward direction + that of the reverse direction, its steps reversed back.
            int width = k == 0 ? InputSize : OutputSize;
            var reversed = rows.InputGradientScratch(device, count, width, moduleInput: k == 0);
            Ops.Gemm(reverse.InputProjectionGradient!, false, reverse.WeightIh.Value, false, reversed);
            var dX = k == 0 ? inputGradientBuffer.Get(device, count, InputSize) : hiddenGradient.Get(device, count, OutputSize);
            rows.Unreverse(reversed, dX);
            Ops.Gemm(forward.InputProjectionGradient!, false, forward.WeightIh.Value, false, dX, 1f, 1f);
            if (k == 0)
            {
                inputGradient = dX;
                break;
            }

            dY = layers[2 * (k - 1)].Dropout.Backward(dX);
        }

        return inputGradient;
    }

    // Layer entry j's biased input projection of all steps at once, from its input (a gather from its token ids, which
    // adds the bias as it writes).
    private void ProjectInput(int j, RnnLayer layer)
    {
        if (layer.Ids is not null)
        {
            Ops.GatherColumns(layer.WeightIh.Value, layer.Ids, layer.GatesAll!, InputBias(j, layer));
        }
        else
        {
            Ops.Gemm(layer.Input!, false, layer.WeightIh.Value, true, layer.GatesAll!);
            Ops.AddBias(layer.GatesAll!, InputBias(j, layer));
        }
    }

    // h of every step of both directions of the layer whose forward entry is j, [2·T·B, H]: the forward direction's rows
    // first. The layer's entries' h are views of it.
    private Tensor HiddenPair(int j, Device device) => layers[j].Hidden.Get(device, 2 * steps * batch, HiddenSize);

    // The key of layer k's dropout mask in the batch with the given stream.
    private static ulong DropoutStream(ulong dropoutStream, int k) => (dropoutStream * 64) + (ulong)k;

    // Sizes layer k's buffers and step views, copies its initial h in, and lets the cell prepare the rest.
    private void PrepareLayer(int k, Device device, RnnState? initialState)
    {
        var layer = layers[k];
        int rows = steps * batch;
        layer.GatesAll = layer.Gates.Get(device, rows, gateCount * HiddenSize);
        layer.HiddenAll = Directions == 1
            ? layer.Hidden.Get(device, rows, HiddenSize)
            : layer.HiddenRows.Rows(HiddenPair(k - (k % 2), device), (k % 2) * rows, rows);
        layer.GateSteps = StepViews.Of(layer.GatesAll, steps, batch, layer.GateStepCache);
        layer.HiddenSteps = StepViews.Of(layer.HiddenAll, steps, batch, layer.HiddenStepCache);
        layer.InitialHidden = layer.InitialHiddenBuffer.Get(device, batch, HiddenSize);
        layer.HasInitialHidden = initialState is not null;
        if (initialState is null)
        {
            Ops.Fill(layer.InitialHidden, 0f);
        }
        else
        {
            Ops.Copy(initialState.HiddenTensors[k], layer.InitialHidden);
        }

        PrepareCells(k, layer, initialState, steps, batch);
    }

    private void CopyFinalState(int k, RnnState? finalState)
    {
        if (finalState is not null)
        {
            finalStateWrites++;
            Ops.Copy(layers[k].HiddenSteps![steps - 1], finalState.HiddenTensors[k]);
            CopyFinalCells(k, finalState);
        }
    }

    // Layers k and k − 1 backward as one wavefront, where the forward ran one: the layer below's dH goes to a module-owned
    // buffer other than dH's.
    private (Tensor InputProjection, Tensor RecurrentProjection, Tensor BelowInputProjection, Tensor BelowRecurrentProjection)? TryWavefrontBackward(int k, Tensor dH)
    {
        if (!wavefrontRan)
        {
            return null;
        }

        int rows = steps * batch;
        var shared = hiddenGradient.Get(dH.Device, rows, HiddenSize);
        var belowGradient = ReferenceEquals(dH, shared) ? wavefrontHiddenGradient.Get(dH.Device, rows, HiddenSize) : shared;
        return TryWavefrontBackward(k, layers[k], layers[k - 1], dH, belowGradient, layers[k - 1].Dropout.AppliedMask, steps, batch);
    }

    private void CheckSizes(int rows, int steps, int batch, RnnState? initialState, RnnState? finalState)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(steps);
        ArgumentChecks.ThrowIfNegativeOrZero(batch);
        if (rows != steps * batch)
        {
            throw new ArgumentException($"The {cellName} input has {rows} rows but steps × batch = {steps} × {batch} = {steps * batch}.");
        }

        CheckStateSize(initialState, batch);
        CheckStateSize(finalState, batch);
    }

    private void CheckStateSize(RnnState? state, int batch, string? paramName = null)
    {
        if (state is not null && (state.Batch != batch || state.HiddenTensors.Count != StateLayers || state.HiddenTensors[0].Columns != HiddenSize))
        {
            string layersText = Bidirectional ? $"2 × {NumLayers} layers (bidirectional)" : $"{NumLayers} layers";
            throw new ArgumentException($"The {cellName} state is for batch {state.Batch}, {state.HiddenTensors.Count} layers and hidden size {state.HiddenTensors[0].Columns}, but the input has batch {batch} and the {cellName} {layersText} of {HiddenSize}.", paramName);
        }
    }

    // Whether a state the caller gives, the InitialState or (with its parameter's name) the state given to CarryFrom, can
    // start a Forward of `batch` sequences, checked before anything changes.
    private void CheckGivenState(RnnState? state, int batch, string? carryFromParameter = null)
    {
        if (state is null)
        {
            return;
        }

        RnnState.ThrowIfOtherKind(state, StateKind, carryFromParameter);
        if (state.IsOverwritten)
        {
            throw new ArgumentException(RnnState.OverwrittenMessage(What()), carryFromParameter);
        }

        if (state.IsDisposed)
        {
            throw new ObjectDisposedException(objectName: null, $"{What()} has been disposed.");
        }

        CheckStateSize(state, batch, carryFromParameter);
        var device = ModuleDevice;
        if (device is not null && !ReferenceEquals(state.HiddenTensors[0].Device, device))
        {
            throw new ArgumentException($"{What()} is on {DeviceMismatch.NameBeside(state.HiddenTensors[0].Device, device)}, but the {cellName} is on {device.Name}: make the state on the module's device.", carryFromParameter);
        }

        // The state's use, as a message starts; made only for a refusal, as a Forward allocates nothing.
        string What() => carryFromParameter is null ? $"The {cellName} InitialState" : $"The state given to {cellName} CarryFrom";
    }

    private void ThrowIfBidirectional(string what)
    {
        if (Bidirectional)
        {
            throw new InvalidOperationException($"{what}: a bidirectional {cellName} cannot carry its state across batches, since its reverse direction ends at each batch's first step; run each batch from its initial state.");
        }
    }
}
