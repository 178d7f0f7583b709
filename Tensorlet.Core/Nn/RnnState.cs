namespace Tensorlet.Nn;

/// <summary>
/// The state a multi-layer recurrent module carries from step to step: per layer (per layer and direction, forward
/// first, for a bidirectional module), h of shape [B, H], and whatever else its cell keeps (an LSTM's c).
/// <see cref="Lstm"/> uses <see cref="LstmState"/>, <see cref="Gru"/> <see cref="GruState"/>.
/// <para>
/// A state made by <c>CreateState</c> or <see cref="Clone"/> owns its tensors, and the caller disposes it. A module's
/// <c>FinalState</c> is the module's buffer, valid until the module's next Forward, which overwrites it (whatever its
/// batch size); <see cref="Clone"/> keeps a copy. Such a state that a later Forward has overwritten is refused as an
/// <c>InitialState</c> and by <see cref="RnnBase.CarryFrom"/>.
/// </para>
/// </summary>
public abstract class RnnState : IDisposable
{
    private readonly IReadOnlyList<Tensor>[] parts;

    // The module that handed this state out as its final state, and that module's count of final-state writes then; null
    // for a state the caller owns.
    private RnnBase? issuer;
    private long issuedAt;

    private protected RnnState(int batch, params IReadOnlyList<Tensor>[] parts)
    {
        Batch = batch;
        this.parts = parts;
    }

    /// <summary>The batch size the state was made for.</summary>
    public int Batch { get; }

    /// <summary>h per layer (per layer and direction when bidirectional: layer 0 forward, layer 0 reverse, ...), [B, H] each.</summary>
    public IReadOnlyList<Tensor> Hidden => parts[0];

    /// <summary>Sets every tensor of the state to zero.</summary>
    public void Reset()
    {
        foreach (var t in parts.SelectMany(p => p))
        {
            Ops.Fill(t, 0f);
        }
    }

    /// <summary>Whether any of the state's tensors is disposed.</summary>
    internal bool IsDisposed
    {
        get
        {
            foreach (var part in parts)
            {
                for (int k = 0; k < part.Count; k++)
                {
                    if (part[k].IsDisposed)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }

    /// <summary>
    /// A copy of the state in tensors of its own on the same device, as PyTorch's <c>h.clone()</c>: how to keep a
    /// module's <c>FinalState</c> past the next Forward. The caller disposes it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">A tensor of the state is disposed.</exception>
    public virtual RnnState Clone()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return WithParts(Batch, [.. parts.Select(p => p.Select(Copy).ToArray())]);

        static Tensor Copy(Tensor t)
        {
            var copy = t.Device.Zeros(t.Rows, t.Columns);
            Ops.Copy(t, copy);
            return copy;
        }
    }

    /// <summary>Frees the state's tensors.</summary>
    public void Dispose()
    {
        foreach (var t in parts.SelectMany(p => p))
        {
            t.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The state of the first <paramref name="batch"/> sequences: views of this one's rows, owning no buffer.</summary>
    internal RnnState FirstRows(int batch) => WithParts(batch, [.. parts.Select(p => p.Select(t => t.Slice(0, batch)).ToArray())]);

    /// <summary>
    /// Marks this state, a final state of <paramref name="module"/>, as handed out after the module's final-state write
    /// number <paramref name="writes"/>: any later write makes it stale (<see cref="IsOverwritten"/>).
    /// </summary>
    internal RnnState HandOut(RnnBase module, long writes)
    {
        issuer = module;
        issuedAt = writes;
        return this;
    }

    /// <summary>Whether this is a module's final state that the module has overwritten since it handed it out.</summary>
    internal bool IsOverwritten => issuer is not null && issuer.FinalStateWrites != issuedAt;

    /// <summary>The one line that refuses an overwritten state (<see cref="IsOverwritten"/>).</summary>
    /// <param name="what">The state's use, as the message starts: "The LSTM InitialState".</param>
    internal static string OverwrittenMessage(string what) =>
        $"{what} is a FinalState that a later Forward has overwritten (a FinalState is valid until its module's next Forward); to keep one, copy it with FinalState.Clone() before that Forward.";

    /// <summary>Copies <paramref name="source"/>, a state of the same kind and sizes, into this one.</summary>
    internal void CopyFrom(RnnState source)
    {
        ThrowIfOtherKind(source, GetType(), nameof(source));

        for (int p = 0; p < parts.Length; p++)
        {
            for (int k = 0; k < parts[p].Count; k++)
            {
                Ops.Copy(source.parts[p][k], parts[p][k]);
            }
        }
    }

    /// <summary>Throws unless <paramref name="state"/> is of the type <paramref name="kind"/> (an <see cref="LstmState"/> for an LSTM).</summary>
    internal static void ThrowIfOtherKind(RnnState state, Type kind, string? paramName)
    {
        if (state.GetType() != kind)
        {
            throw new ArgumentException($"A {state.GetType().Name} cannot stand for a {kind.Name}.", paramName);
        }
    }

    /// <summary>A state of the same kind over <paramref name="parts"/>, in the order this one's are.</summary>
    private protected abstract RnnState WithParts(int batch, Tensor[][] parts);

    /// <summary>One zero [B, H] tensor per entry: per layer, or per layer and direction.</summary>
    // A state for no sequence would fit no Forward, which needs a batch of at least 1.
    private protected static Tensor[] Zeros(Device device, int layers, int batch, int hiddenSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        return [.. Enumerable.Range(0, layers).Select(_ => device.Zeros(batch, hiddenSize))];
    }
}
