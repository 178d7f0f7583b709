namespace Tensorlet.Nn;

/// <summary>
/// One layer of a <see cref="RnnBase"/> stack (one direction of it, in a bidirectional stack): its four parameters, what its Forward saves for Backward that every cell
/// has (the input projection that becomes the gates, h of every step, the initial h, the layer's output after dropout),
/// and its reused buffers and cached views. A cell's own buffers (an LSTM's c) live in the cell's module.
/// </summary>
internal sealed class RnnLayer(float dropout) : IDisposable
{
    public Parameter WeightIh { get; private set; } = null!;

    public Parameter WeightHh { get; private set; } = null!;

    public Parameter BiasIh { get; private set; } = null!;

    public Parameter BiasHh { get; private set; } = null!;

    public bool HasParameters { get; private set; }

    /// <summary>[T·B, G·H]: the input projection of every step, which the cell turns into its gates in place.</summary>
    public Workspace Gates { get; } = new();

    /// <summary>[T·B, H]: h of every step.</summary>
    public Workspace Hidden { get; } = new();

    public Workspace InitialHiddenBuffer { get; } = new();

    public Dropout Dropout { get; } = new(dropout);

    public Tensor? GatesAll { get; set; }

    public Tensor? HiddenAll { get; set; }

    public Tensor[]? GateSteps { get; set; }

    public Tensor[]? HiddenSteps { get; set; }

    public Tensor? InitialHidden { get; set; }

    /// <summary>Whether the last Forward started from a given state (else from zeros, and h_{−1}·W_hhᵀ was skipped).</summary>
    public bool HasInitialHidden { get; set; }

    /// <summary>The layer's output after dropout: the next layer's input.</summary>
    public Tensor? Output { get; set; }

    /// <summary>The dense input [T·B, In] the last Forward projected, in this entry's step order; null for token ids.</summary>
    public Tensor? Input { get; set; }

    /// <summary>The token ids [T·B] the last Forward gathered its projection by, in this entry's step order; null for dense input.</summary>
    public IndexTensor? Ids { get; set; }

    /// <summary>The last Backward's dL/d(input projection), while the input gradient is formed from it.</summary>
    public Tensor? InputProjectionGradient { get; set; }

    /// <summary>Cached views of the layer's buffers (per step, or ranges of rows), per shape.</summary>
    public RecentViews<Tensor[]> GateStepCache { get; } = new();

    public RecentViews<Tensor[]> HiddenStepCache { get; } = new();

    public RecentViews<Tensor[]> GradientStepCache { get; } = new();

    public ShapeView LaterRecurrentGradients { get; } = new();

    public ShapeView FirstRecurrentGradients { get; } = new();

    public ShapeView EarlierHidden { get; } = new();

    public ShapeView LaterInput { get; } = new();

    public ShapeView FirstInput { get; } = new();

    public ShapeView HiddenRows { get; } = new();

    public ShapeView GradientRows { get; } = new();

    public void Bind(Parameter weightIh, Parameter weightHh, Parameter biasIh, Parameter biasHh)
    {
        WeightIh = weightIh;
        WeightHh = weightHh;
        BiasIh = biasIh;
        BiasHh = biasHh;
        HasParameters = true;
    }

    public void Dispose()
    {
        Gates.Dispose();
        Hidden.Dispose();
        InitialHiddenBuffer.Dispose();
        Dropout.Dispose();
    }
}
