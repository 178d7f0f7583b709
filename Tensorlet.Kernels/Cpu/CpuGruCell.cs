using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The fused GRU cell in SIMD C#: one pass over [B,H] that reads the input and recurrent projections gi and gh
/// (PyTorch's gate order r, z, n: columns [0,H), [H,2H), [2H,3H) of each [B,3H] row) and writes the gates and h, and
/// one backward pass that writes both projections' gradients. Formulas as <see cref="Reference.ReferenceGruCell"/>;
/// σ and tanh are <see cref="CpuLstmCell"/>'s, so every recurrent cell computes one function.
/// Rows are split across threads when the cell is big enough to pay for it.
/// </summary>
internal static unsafe class CpuGruCell
{
    // As the LSTM cell's (measured there at 2×256), scaled to the GRU's three gate streams instead of four.
    private const long MinForwardElementsPerThread = 8192;
    private const long MinBackwardElementsPerThread = 65536;

    /// <summary>
    /// r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h = n + z·(hPrev − n) (= (1 − z)·n + z·hPrev).
    /// <paramref name="gates"/> may be the same memory as <paramref name="gi"/>: each element reads before it writes.
    /// </summary>
    /// <param name="gi">[batch, 3·hidden]: x·W_ihᵀ + b_ih, gate order r, z, n.</param>
    /// <param name="gh">[batch, 3·hidden]: hPrev·W_hhᵀ + b_hh; its n block is needed again by the backward pass.</param>
    /// <param name="hPrev">[batch, hidden], the previous hidden state.</param>
    /// <param name="gates">[batch, 3·hidden] out: r, z, n, saved for the backward pass.</param>
    /// <param name="h">[batch, hidden] out: the new hidden state.</param>
    /// <param name="batch">B, the rows.</param>
    /// <param name="hidden">H, the hidden size.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void Forward(
        ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, ReadOnlySpan<float> hPrev, Span<float> gates, Span<float> h, int batch, int hidden, int threads, CpuVectorWidth width)
    {
        long narrow = CpuLstmCell.CheckSizes(batch, hidden);
        CpuLstmCell.CheckLength(gi.Length, 3 * narrow, nameof(gi));
        CpuLstmCell.CheckLength(gh.Length, 3 * narrow, nameof(gh));
        CpuLstmCell.CheckLength(gates.Length, 3 * narrow, nameof(gates));
        CpuLstmCell.CheckLength(hPrev.Length, narrow, nameof(hPrev));
        CpuLstmCell.CheckLength(h.Length, narrow, nameof(h));
        if (narrow == 0)
        {
            return;
        }

        fixed (float* pGi = gi, pGh = gh, pHPrev = hPrev, pGates = gates, pH = h)
        {
            CpuParallel.ForRowBlocks(batch, hidden, MinForwardElementsPerThread, threads, new ForwardRows(pGi, pGh, pHPrev, pGates, pH, hidden, width));
        }
    }

    /// <summary>
    /// The backward of <see cref="Forward"/> from its saved gates, gh (its n block) and hPrev. With d = dh + dhNext:
    /// dn = d·(1 − z)·(1 − n²); dgi = dn·gh_n·r(1 − r), d·(hPrev − n)·z(1 − z), dn; dgh = dgi but dgh_n = dn·r;
    /// dhPrev = d·z (the part of dL/dhPrev that does not pass through W_hh).
    /// <paramref name="dgi"/> may be <paramref name="gates"/>, <paramref name="dgh"/> may be <paramref name="gh"/>, and
    /// <paramref name="dhPrev"/> may be <paramref name="dhNext"/>: every element reads before it writes.
    /// </summary>
    /// <param name="gates">[batch, 3·hidden]: r, z, n from the forward pass.</param>
    /// <param name="gh">[batch, 3·hidden]: the recurrent projection the forward pass read.</param>
    /// <param name="hPrev">[batch, hidden]: the hidden state the forward pass read.</param>
    /// <param name="dh">[batch, hidden]: the loss gradient reaching h from above and through W_hh.</param>
    /// <param name="dhNext">[batch, hidden]: the gradient reaching h directly from the next step.</param>
    /// <param name="dgi">[batch, 3·hidden] out: the gradient with respect to gi.</param>
    /// <param name="dgh">[batch, 3·hidden] out: the gradient with respect to gh.</param>
    /// <param name="dhPrev">[batch, hidden] out: the direct gradient with respect to hPrev.</param>
    /// <param name="batch">B, the rows.</param>
    /// <param name="hidden">H, the hidden size.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void Backward(
        ReadOnlySpan<float> gates,
        ReadOnlySpan<float> gh,
        ReadOnlySpan<float> hPrev,
        ReadOnlySpan<float> dh,
        ReadOnlySpan<float> dhNext,
        Span<float> dgi,
        Span<float> dgh,
        Span<float> dhPrev,
        int batch,
        int hidden,
        int threads,
        CpuVectorWidth width)
    {
        long narrow = CpuLstmCell.CheckSizes(batch, hidden);
        CpuLstmCell.CheckLength(gates.Length, 3 * narrow, nameof(gates));
        CpuLstmCell.CheckLength(gh.Length, 3 * narrow, nameof(gh));
        CpuLstmCell.CheckLength(dgi.Length, 3 * narrow, nameof(dgi));
        CpuLstmCell.CheckLength(dgh.Length, 3 * narrow, nameof(dgh));
        CpuLstmCell.CheckLength(hPrev.Length, narrow, nameof(hPrev));
        CpuLstmCell.CheckLength(dh.Length, narrow, nameof(dh));
        CpuLstmCell.CheckLength(dhNext.Length, narrow, nameof(dhNext));
        CpuLstmCell.CheckLength(dhPrev.Length, narrow, nameof(dhPrev));
        if (narrow == 0)
        {
            return;
        }

        fixed (float* pGates = gates, pGh = gh, pHPrev = hPrev, pDh = dh, pDhNext = dhNext, pDgi = dgi, pDgh = dgh, pDhPrev = dhPrev)
        {
            CpuParallel.ForRowBlocks(batch, hidden, MinBackwardElementsPerThread, threads, new BackwardRows(pGates, pGh, pHPrev, pDh, pDhNext, pDgi, pDgh, pDhPrev, hidden, width));
        }
    }

    /// <summary>
    /// The cell for hidden units [0, units) of one row, whose three gates are <paramref name="hidden"/> floats apart:
    /// a whole row when units = hidden, or one thread's share of the units (<see cref="CpuGruRecurrence"/>).
    /// </summary>
    internal static void ForwardUnits(float* gi, float* gh, float* hPrev, float* gates, float* h, int units, int hidden, CpuVectorWidth width)
        => FloatLanesLoop.Run(new ForwardSweep(gi, gh, hPrev, gates, h, hidden), units, width);

    /// <summary>Units [j, units) of <see cref="ForwardUnits"/> in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ForwardRegisters<TLanes, TVector>(float* gi, float* gh, float* hPrev, float* gates, float* h, int hidden, int j, int units)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        for (; j <= units - (2 * TLanes.Count); j += 2 * TLanes.Count)
        {
            ForwardPair<TLanes, TVector>(gi + j, gh + j, hPrev + j, gates + j, h + j, hidden);
        }

        for (; j <= units - TLanes.Count; j += TLanes.Count)
        {
            ForwardStep<TLanes, TVector>(gi + j, gh + j, hPrev + j, gates + j, h + j, hidden);
        }

        return j;
    }

    /// <summary>
    /// <see cref="ForwardStep"/> for two registers of units side by side, every operation for both before the next, so
    /// that the exps' dependent chains overlap (as the LSTM's <c>ForwardPair</c>). Every float is the one ForwardStep gives.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardPair<TLanes, TVector>(float* gi, float* gh, float* hPrev, float* gates, float* h, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        // All loads of a unit happen before its stores, so gates == gi stays safe.
        int n = TLanes.Count;
        TVector ra = TLanes.Add(TLanes.Load(gi), TLanes.Load(gh)), rb = TLanes.Add(TLanes.Load(gi + n), TLanes.Load(gh + n));
        CpuLstmCell.SigmoidPair<TLanes, TVector>(ref ra, ref rb);
        TVector za = TLanes.Add(TLanes.Load(gi + hidden), TLanes.Load(gh + hidden)), zb = TLanes.Add(TLanes.Load(gi + hidden + n), TLanes.Load(gh + hidden + n));
        CpuLstmCell.SigmoidPair<TLanes, TVector>(ref za, ref zb);
        TVector na = TLanes.MultiplyAdd(ra, TLanes.Load(gh + (2 * hidden)), TLanes.Load(gi + (2 * hidden)));
        TVector nb = TLanes.MultiplyAdd(rb, TLanes.Load(gh + (2 * hidden) + n), TLanes.Load(gi + (2 * hidden) + n));
        CpuLstmCell.TanhPair<TLanes, TVector>(ref na, ref nb);
        var ha = TLanes.MultiplyAdd(za, TLanes.Subtract(TLanes.Load(hPrev), na), na);
        var hb = TLanes.MultiplyAdd(zb, TLanes.Subtract(TLanes.Load(hPrev + n), nb), nb);
        TLanes.Store(ra, gates);
        TLanes.Store(rb, gates + n);
        TLanes.Store(za, gates + hidden);
        TLanes.Store(zb, gates + hidden + n);
        TLanes.Store(na, gates + (2 * hidden));
        TLanes.Store(nb, gates + (2 * hidden) + n);
        TLanes.Store(ha, h);
        TLanes.Store(hb, h + n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardStep<TLanes, TVector>(float* gi, float* gh, float* hPrev, float* gates, float* h, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        // All loads happen before any store, which is what makes gates == gi safe.
        var r = CpuLstmCell.Sigmoid<TLanes, TVector>(TLanes.Add(TLanes.Load(gi), TLanes.Load(gh)));
        var z = CpuLstmCell.Sigmoid<TLanes, TVector>(TLanes.Add(TLanes.Load(gi + hidden), TLanes.Load(gh + hidden)));
        var n = CpuLstmCell.Tanh<TLanes, TVector>(TLanes.MultiplyAdd(r, TLanes.Load(gh + (2 * hidden)), TLanes.Load(gi + (2 * hidden))));
        var hNew = TLanes.MultiplyAdd(z, TLanes.Subtract(TLanes.Load(hPrev), n), n);
        TLanes.Store(r, gates);
        TLanes.Store(z, gates + hidden);
        TLanes.Store(n, gates + (2 * hidden));
        TLanes.Store(hNew, h);
    }

    /// <summary>The backward cell for hidden units [0, units) of one row (see <see cref="ForwardUnits"/>).</summary>
    internal static void BackwardUnits(float* gates, float* gh, float* hPrev, float* dh, float* dhNext, float* dgi, float* dgh, float* dhPrev, int units, int hidden, CpuVectorWidth width)
        => FloatLanesLoop.Run(new BackwardSweep(gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev, hidden), units, width);

    /// <summary>Units [j, units) of <see cref="BackwardUnits"/> in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BackwardRegisters<TLanes, TVector>(float* gates, float* gh, float* hPrev, float* dh, float* dhNext, float* dgi, float* dgh, float* dhPrev, int hidden, int j, int units)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        for (; j <= units - TLanes.Count; j += TLanes.Count)
        {
            BackwardStep<TLanes, TVector>(gates + j, gh + j, hPrev + j, dh + j, dhNext + j, dgi + j, dgh + j, dhPrev + j, hidden);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardStep<TLanes, TVector>(float* gates, float* gh, float* hPrev, float* dh, float* dhNext, float* dgi, float* dgh, float* dhPrev, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var r = TLanes.Load(gates);
        var z = TLanes.Load(gates + hidden);
        var n = TLanes.Load(gates + (2 * hidden));
        var ghN = TLanes.Load(gh + (2 * hidden));
        var d = TLanes.Add(TLanes.Load(dh), TLanes.Load(dhNext));
        var dZ = TLanes.Multiply(d, TLanes.Subtract(TLanes.Load(hPrev), n));
        var dNPre = TLanes.Multiply(TLanes.Multiply(d, TLanes.Subtract(one, z)), TLanes.Subtract(one, TLanes.Multiply(n, n)));
        var dRPre = TLanes.Multiply(TLanes.Multiply(dNPre, ghN), TLanes.Multiply(r, TLanes.Subtract(one, r)));
        var dZPre = TLanes.Multiply(dZ, TLanes.Multiply(z, TLanes.Subtract(one, z)));

        // Stores only after every load: dgi == gates, dgh == gh and dhPrev == dhNext are safe.
        TLanes.Store(TLanes.Multiply(d, z), dhPrev);
        TLanes.Store(dRPre, dgi);
        TLanes.Store(dZPre, dgi + hidden);
        TLanes.Store(dNPre, dgi + (2 * hidden));
        TLanes.Store(dRPre, dgh);
        TLanes.Store(dZPre, dgh + hidden);
        TLanes.Store(TLanes.Multiply(dNPre, r), dgh + (2 * hidden));
    }

    private readonly struct ForwardRows(float* gi, float* gh, float* hPrev, float* gates, float* h, int hidden, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long b = start; b < start + count; b++)
            {
                long wide = b * 3 * hidden, row = b * hidden;
                ForwardUnits(gi + wide, gh + wide, hPrev + row, gates + wide, h + row, hidden, hidden, width);
            }
        }
    }

    private readonly struct BackwardRows(float* gates, float* gh, float* hPrev, float* dh, float* dhNext, float* dgi, float* dgh, float* dhPrev, int hidden, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long b = start; b < start + count; b++)
            {
                long wide = b * 3 * hidden, row = b * hidden;
                BackwardUnits(gates + wide, gh + wide, hPrev + row, dh + row, dhNext + row, dgi + wide, dgh + wide, dhPrev + row, hidden, hidden, width);
            }
        }
    }

    /// <summary>The forward cell's pointers, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct ForwardSweep(float* gi, float* gh, float* hPrev, float* gates, float* h, int hidden) : IFloatLanesSweep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => ForwardRegisters<TLanes, TVector>(gi, gh, hPrev, gates, h, hidden, start, n);
    }

    /// <summary>The backward cell's pointers, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct BackwardSweep(float* gates, float* gh, float* hPrev, float* dh, float* dhNext, float* dgi, float* dgh, float* dhPrev, int hidden) : IFloatLanesSweep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => BackwardRegisters<TLanes, TVector>(gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev, hidden, start, n);
    }
}
