using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// The state a multi-layer recurrent module carries from step to step: per layer (per layer and direction, forward
/// first, for a bidirectional module), h of shape [B, H], and whatever else its cell keeps (an LSTM's c).
/// <see cref="Lstm"/> uses <see cref="LstmState"/>, <see cref="Gru"/> <see cref="GruState"/>.
/// <para>
/// A state made by <c>CreateState</c> or <see cref="Clone"/> owns its tensors, and the caller disposes it. A module's
/// <c>FinalState</c> is the module's buffer, valid until the module's next Forward, which overwrites it (whatever its
/// batch size); <see cref="Clone"/> keeps a copy. Such a state that a later Forward has overwritten is refused as an
/// <c>InitialState</c> and by <see cref="RnnBase.CarryFrom"/>, also once <c>FinalState</c> has been read again, which
/// then gives another object; the module alternates two objects per batch size, so a reference kept across two or more
/// overwriting Forwards, each followed by a read, can be the current object again (see <c>FinalState</c>). Such a state
/// is refused by <see cref="Clone"/>, <see cref="Reset"/>, <see cref="Hidden"/> and <c>Cell</c> too, and its <see cref="Dispose"/> does nothing: the
/// tensors it names are the module's current state.
/// </para>
/// </summary>
public abstract class RnnState : IDisposable
{
    private readonly Tensor[][] parts;

    // The module that handed this state out as its final state, and that module's count of final-state writes then; null
    // for a state the caller owns, and for the module's own final state, which it hands out only through the two below.
    private RnnBase? issuer;
    private long issuedAt;

    // For a module's own final state (its buffers): the two objects over its tensors that the module hands out as its
    // FinalState in turn (HandOut), the one handed out last first.
    private RnnState? handedOut;
    private RnnState? spare;

    private protected RnnState(int batch, params Tensor[][] parts)
    {
        Batch = batch;
        this.parts = parts;
    }

    /// <summary>The batch size the state was made for.</summary>
    public int Batch { get; }

    /// <summary>h per layer (per layer and direction when bidirectional: layer 0 forward, layer 0 reverse, ...), [B, H] each.</summary>
    /// <exception cref="InvalidOperationException">The state is a FinalState that a later Forward has overwritten: its tensors hold the module's current state.</exception>
    public IReadOnlyList<Tensor> Hidden
    {
        get
        {
            ThrowIfOverwritten();
            return parts[0];
        }
    }

    /// <summary>h per layer, unchecked: for the library's own reads of states it has checked or owns.</summary>
    internal IReadOnlyList<Tensor> HiddenTensors => parts[0];

    /// <summary>Sets every tensor of the state to zero.</summary>
    /// <exception cref="InvalidOperationException">The state is a FinalState that a later Forward has overwritten: its tensors hold the module's current state.</exception>
    public void Reset()
    {
        ThrowIfOverwritten();
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
                for (int k = 0; k < part.Length; k++)
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
    /// <exception cref="InvalidOperationException">The state is a FinalState that a later Forward has overwritten: its tensors hold another state.</exception>
    /// <exception cref="ObjectDisposedException">A tensor of the state is disposed.</exception>
    public virtual RnnState Clone()
    {
        ThrowIfOverwritten();
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return WithParts(Batch, [.. parts.Select(p => p.Select(Copy).ToArray())]);

        static Tensor Copy(Tensor t)
        {
            var copy = t.Device.Zeros(t.Rows, t.Columns);
            Ops.Copy(t, copy);
            return copy;
        }
    }

    /// <summary>
    /// Frees the state's tensors (a module's current FinalState: its buffers); nothing for a FinalState that a later
    /// Forward has overwritten, whose tensors the module may be using for its current state, so that a <c>using</c> of a
    /// FinalState kept past that Forward frees nothing the module needs.
    /// </summary>
    public void Dispose()
    {
        if (IsOverwritten)
        {
            return;
        }

        foreach (var t in parts.SelectMany(p => p))
        {
            t.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The state of the first <paramref name="batch"/> sequences: views of this one's rows, owning no buffer.</summary>
    internal RnnState FirstRows(int batch) => WithParts(batch, [.. parts.Select(p => p.Select(t => t.Slice(0, batch)).ToArray())]);

    /// <summary>
    /// This state, a final state of <paramref name="module"/>, as the module hands it out after its final-state write
    /// number <paramref name="writes"/>: an object over the same tensors that records that number, so that any later
    /// write makes it stale (<see cref="IsOverwritten"/>). Read again before such a write, it is the same object; read
    /// after one, it is the other of two, so that the object read before the write stays stale. Two, not one per write:
    /// a reference cannot be told from its copies without allocating an object per Forward, so the carry pattern
    /// (InitialState = FinalState after each Forward) reuses them, and an object comes back, current again, at every
    /// second write that is followed by a read.
    /// </summary>
    internal RnnState HandOut(RnnBase module, long writes)
    {
        if (handedOut is null || handedOut.issuedAt != writes)
        {
            var next = spare ?? WithParts(Batch, parts);
            spare = handedOut;
            handedOut = next;
            next.issuer = module;
            next.issuedAt = writes;
        }

        return handedOut;
    }

    /// <summary>Whether this is a module's final state that the module has overwritten since it handed it out.</summary>
    internal bool IsOverwritten => issuer is not null && issuer.FinalStateWrites != issuedAt;

    /// <summary>Refuses a use of this state, in one line, when it is a FinalState that a later write has overwritten (<see cref="IsOverwritten"/>).</summary>
    private protected void ThrowIfOverwritten()
    {
        if (IsOverwritten)
        {
            throw new InvalidOperationException(OverwrittenMessage($"This {GetType().Name}"));
        }
    }

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
            for (int k = 0; k < parts[p].Length; k++)
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
        ArgumentChecks.ThrowIfNegativeOrZero(batch);
        return [.. Enumerable.Range(0, layers).Select(_ => device.Zeros(batch, hiddenSize))];
    }
}
