using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The fused LSTM cell in SIMD C#: one pass over [B,H] that reads the four gate streams (PyTorch's order
/// i, f, g, o: columns [0,H), [H,2H), [2H,3H), [3H,4H) of each [B,4H] row) and writes everything the cell
/// produces, instead of one pass per activation and product. σ and tanh go through the vectorized exp (<see cref="FloatExp"/>):
/// σ(x) = 1/(1+e^−x) and tanh(x) = 1 − 2/(1+e^2x), both exact at ±∞ and within ~1e-7 absolute elsewhere.
/// Rows are split across threads when the cell is big enough to pay for it.
/// </summary>
internal static unsafe class CpuLstmCell
{
    // A split costs about a microsecond with the worker team: the forward cell (five exps per element) pays for it
    // from a few thousand elements per thread; the backward (one exp per element) needs far more to gain anything.
    private const long MinForwardElementsPerThread = 8192;
    private const long MinBackwardElementsPerThread = 65536;

    /// <summary>
    /// gates = σ(i), σ(f), tanh(g), σ(o); c = f·cPrev + i·g; h = o·tanh(c).
    /// <paramref name="gates"/> may be the same memory as <paramref name="preactivations"/> (each element reads its
    /// four preactivations before it writes its four gates), and <paramref name="c"/> may be <paramref name="cPrev"/>.
    /// </summary>
    /// <param name="preactivations">[batch, 4·hidden], gate order i, f, g, o.</param>
    /// <param name="cPrev">[batch, hidden], the previous cell state.</param>
    /// <param name="gates">[batch, 4·hidden] out: the activated gates, saved for the backward pass.</param>
    /// <param name="c">[batch, hidden] out: the new cell state.</param>
    /// <param name="h">[batch, hidden] out: the new hidden state.</param>
    /// <param name="batch">B, the rows.</param>
    /// <param name="hidden">H, the hidden size.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void Forward(
        ReadOnlySpan<float> preactivations, ReadOnlySpan<float> cPrev, Span<float> gates, Span<float> c, Span<float> h, int batch, int hidden, int threads, CpuVectorWidth width)
    {
        long narrow = CheckSizes(batch, hidden);
        CheckLength(preactivations.Length, 4 * narrow, nameof(preactivations));
        CheckLength(gates.Length, 4 * narrow, nameof(gates));
        CheckLength(cPrev.Length, narrow, nameof(cPrev));
        CheckLength(c.Length, narrow, nameof(c));
        CheckLength(h.Length, narrow, nameof(h));
        if (narrow == 0)
        {
            return;
        }

        fixed (float* pPre = preactivations, pCPrev = cPrev, pGates = gates, pC = c, pH = h)
        {
            CpuParallel.ForRowBlocks(batch, hidden, MinForwardElementsPerThread, threads, new ForwardRows(pPre, pCPrev, pGates, pC, pH, hidden, width));
        }
    }

    /// <summary>
    /// The backward of <see cref="Forward"/> from its saved gates and c: with tc = tanh(c),
    /// dc = dcNext + dh·o·(1−tc²); d(pre) = dc·g·i(1−i), dc·cPrev·f(1−f), dc·i·(1−g²), dh·tc·o(1−o); dcPrev = dc·f.
    /// <paramref name="dcPrev"/> may be the same memory as <paramref name="dcNext"/>, and
    /// <paramref name="dPreactivations"/> may be <paramref name="gates"/>: every element reads before it writes.
    /// </summary>
    /// <param name="gates">[batch, 4·hidden]: σ(i), σ(f), tanh(g), σ(o) from the forward pass.</param>
    /// <param name="c">[batch, hidden]: the cell state the forward pass wrote.</param>
    /// <param name="cPrev">[batch, hidden]: the cell state the forward pass read.</param>
    /// <param name="dh">[batch, hidden]: the loss gradient with respect to h.</param>
    /// <param name="dcNext">[batch, hidden]: the gradient reaching c from the next step.</param>
    /// <param name="dPreactivations">[batch, 4·hidden] out: the gradient with respect to the preactivations.</param>
    /// <param name="dcPrev">[batch, hidden] out: the gradient with respect to cPrev.</param>
    /// <param name="batch">B, the rows.</param>
    /// <param name="hidden">H, the hidden size.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void Backward(
        ReadOnlySpan<float> gates,
        ReadOnlySpan<float> c,
        ReadOnlySpan<float> cPrev,
        ReadOnlySpan<float> dh,
        ReadOnlySpan<float> dcNext,
        Span<float> dPreactivations,
        Span<float> dcPrev,
        int batch,
        int hidden,
        int threads,
        CpuVectorWidth width)
    {
        long narrow = CheckSizes(batch, hidden);
        CheckLength(gates.Length, 4 * narrow, nameof(gates));
        CheckLength(dPreactivations.Length, 4 * narrow, nameof(dPreactivations));
        CheckLength(c.Length, narrow, nameof(c));
        CheckLength(cPrev.Length, narrow, nameof(cPrev));
        CheckLength(dh.Length, narrow, nameof(dh));
        CheckLength(dcNext.Length, narrow, nameof(dcNext));
        CheckLength(dcPrev.Length, narrow, nameof(dcPrev));
        if (narrow == 0)
        {
            return;
        }

        fixed (float* pGates = gates, pC = c, pCPrev = cPrev, pDh = dh, pDcNext = dcNext, pDPre = dPreactivations, pDcPrev = dcPrev)
        {
            CpuParallel.ForRowBlocks(batch, hidden, MinBackwardElementsPerThread, threads, new BackwardRows(pGates, pC, pCPrev, pDh, pDcNext, pDPre, pDcPrev, hidden, width));
        }
    }

    /// <summary>
    /// The cell for hidden units [0, units) of one row, whose four gates are <paramref name="hidden"/> floats apart:
    /// a whole row when units = hidden, or one thread's share of the units (<see cref="CpuLstmRecurrence"/>).
    /// </summary>
    internal static void ForwardUnits(float* pre, float* cPrev, float* gates, float* c, float* h, int units, int hidden, CpuVectorWidth width)
        => FloatLanesLoop.Run(new ForwardSweep(pre, cPrev, gates, c, h, hidden), units, width);

    /// <summary>Units [j, units) of <see cref="ForwardUnits"/> in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ForwardRegisters<TLanes, TVector>(float* pre, float* cPrev, float* gates, float* c, float* h, int hidden, int j, int units)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        for (; j <= units - (2 * TLanes.Count); j += 2 * TLanes.Count)
        {
            ForwardPair<TLanes, TVector>(pre + j, cPrev + j, gates + j, c + j, h + j, hidden);
        }

        for (; j <= units - TLanes.Count; j += TLanes.Count)
        {
            ForwardStep<TLanes, TVector>(pre + j, cPrev + j, gates + j, c + j, h + j, hidden);
        }

        return j;
    }

    /// <summary>
    /// <see cref="ForwardStep"/> for two registers of units side by side, every operation for both before the next. One
    /// unit's cell is two long dependent chains (four gate exps, then tanh(c)), and the JIT emits operations in source
    /// order, so one register at a time leaves the core's pipes idle while a chain's latency runs out. Every float is the
    /// one <see cref="ForwardStep"/> gives.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardPair<TLanes, TVector>(float* pre, float* cPrev, float* gates, float* c, float* h, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        // All loads of a unit happen before its stores, so gates == preactivations and c == cPrev stay safe.
        int n = TLanes.Count;
        TVector ia = TLanes.Load(pre), ib = TLanes.Load(pre + n);
        SigmoidPair<TLanes, TVector>(ref ia, ref ib);
        TVector fa = TLanes.Load(pre + hidden), fb = TLanes.Load(pre + hidden + n);
        SigmoidPair<TLanes, TVector>(ref fa, ref fb);
        TVector ga = TLanes.Load(pre + (2 * hidden)), gb = TLanes.Load(pre + (2 * hidden) + n);
        TanhPair<TLanes, TVector>(ref ga, ref gb);
        TVector oa = TLanes.Load(pre + (3 * hidden)), ob = TLanes.Load(pre + (3 * hidden) + n);
        SigmoidPair<TLanes, TVector>(ref oa, ref ob);
        var ca = TLanes.MultiplyAdd(fa, TLanes.Load(cPrev), TLanes.Multiply(ia, ga));
        var cb = TLanes.MultiplyAdd(fb, TLanes.Load(cPrev + n), TLanes.Multiply(ib, gb));
        TLanes.Store(ia, gates);
        TLanes.Store(ib, gates + n);
        TLanes.Store(fa, gates + hidden);
        TLanes.Store(fb, gates + hidden + n);
        TLanes.Store(ga, gates + (2 * hidden));
        TLanes.Store(gb, gates + (2 * hidden) + n);
        TLanes.Store(oa, gates + (3 * hidden));
        TLanes.Store(ob, gates + (3 * hidden) + n);
        TLanes.Store(ca, c);
        TLanes.Store(cb, c + n);
        TanhPair<TLanes, TVector>(ref ca, ref cb);
        TLanes.Store(TLanes.Multiply(oa, ca), h);
        TLanes.Store(TLanes.Multiply(ob, cb), h + n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardStep<TLanes, TVector>(float* pre, float* cPrev, float* gates, float* c, float* h, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        // All loads happen before any store, which is what makes gates == preactivations safe.
        var i = Sigmoid<TLanes, TVector>(TLanes.Load(pre));
        var f = Sigmoid<TLanes, TVector>(TLanes.Load(pre + hidden));
        var g = Tanh<TLanes, TVector>(TLanes.Load(pre + (2 * hidden)));
        var o = Sigmoid<TLanes, TVector>(TLanes.Load(pre + (3 * hidden)));
        var cNew = TLanes.MultiplyAdd(f, TLanes.Load(cPrev), TLanes.Multiply(i, g));
        TLanes.Store(i, gates);
        TLanes.Store(f, gates + hidden);
        TLanes.Store(g, gates + (2 * hidden));
        TLanes.Store(o, gates + (3 * hidden));
        TLanes.Store(cNew, c);
        TLanes.Store(TLanes.Multiply(o, Tanh<TLanes, TVector>(cNew)), h);
    }

    /// <summary>The backward cell for hidden units [0, units) of one row (see <see cref="ForwardUnits"/>).</summary>
    internal static void BackwardUnits(float* gates, float* c, float* cPrev, float* dh, float* dcNext, float* dPre, float* dcPrev, int units, int hidden, CpuVectorWidth width)
        => FloatLanesLoop.Run(new BackwardSweep(gates, c, cPrev, dh, dcNext, dPre, dcPrev, hidden), units, width);

    /// <summary>Units [j, units) of <see cref="BackwardUnits"/> in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BackwardRegisters<TLanes, TVector>(float* gates, float* c, float* cPrev, float* dh, float* dcNext, float* dPre, float* dcPrev, int hidden, int j, int units)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        for (; j <= units - TLanes.Count; j += TLanes.Count)
        {
            BackwardStep<TLanes, TVector>(gates + j, c + j, cPrev + j, dh + j, dcNext + j, dPre + j, dcPrev + j, hidden);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardStep<TLanes, TVector>(float* gates, float* c, float* cPrev, float* dh, float* dcNext, float* dPre, float* dcPrev, int hidden)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var i = TLanes.Load(gates);
        var f = TLanes.Load(gates + hidden);
        var g = TLanes.Load(gates + (2 * hidden));
        var o = TLanes.Load(gates + (3 * hidden));
        var tc = Tanh<TLanes, TVector>(TLanes.Load(c));
        var dhv = TLanes.Load(dh);
        var dc = TLanes.MultiplyAdd(TLanes.Multiply(dhv, o), TLanes.Subtract(one, TLanes.Multiply(tc, tc)), TLanes.Load(dcNext));
        var dO = TLanes.Multiply(dhv, tc);
        var dI = TLanes.Multiply(dc, g);
        var dF = TLanes.Multiply(dc, TLanes.Load(cPrev));
        var dG = TLanes.Multiply(dc, i);

        // Stores only after every load: dcPrev == dcNext and dPre == gates are safe.
        TLanes.Store(TLanes.Multiply(dc, f), dcPrev);
        TLanes.Store(TLanes.Multiply(dI, TLanes.Multiply(i, TLanes.Subtract(one, i))), dPre);
        TLanes.Store(TLanes.Multiply(dF, TLanes.Multiply(f, TLanes.Subtract(one, f))), dPre + hidden);
        TLanes.Store(TLanes.Multiply(dG, TLanes.Subtract(one, TLanes.Multiply(g, g))), dPre + (2 * hidden));
        TLanes.Store(TLanes.Multiply(dO, TLanes.Multiply(o, TLanes.Subtract(one, o))), dPre + (3 * hidden));
    }

    /// <summary>σ(x) = 1/(1+e^−x): e^−x overflows to +∞ for x below about −88, giving exactly 0, never NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Sigmoid<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        return TLanes.Divide(one, TLanes.Add(one, TLanes.Exp(TLanes.Subtract(TLanes.Create(0f), x))));
    }

    /// <summary>tanh(x) = 1 − 2/(1+e^2x): exactly ±1 once e^2x overflows or underflows; absolute error ~1e-7 near 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Tanh<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var e2x = TLanes.Exp(TLanes.Add(x, x));
        return TLanes.Subtract(one, TLanes.Divide(TLanes.Create(2f), TLanes.Add(one, e2x)));
    }

    /// <summary><see cref="Sigmoid"/> of two registers, interleaved (<see cref="FloatExp.EvaluatePair"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SigmoidPair<TLanes, TVector>(ref TVector a, ref TVector b)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var zero = TLanes.Create(0f);
        a = TLanes.Subtract(zero, a);
        b = TLanes.Subtract(zero, b);
        FloatExp.EvaluatePair<TLanes, TVector>(ref a, ref b);
        a = TLanes.Divide(one, TLanes.Add(one, a));
        b = TLanes.Divide(one, TLanes.Add(one, b));
    }

    /// <summary><see cref="Tanh"/> of two registers, interleaved (<see cref="FloatExp.EvaluatePair"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void TanhPair<TLanes, TVector>(ref TVector a, ref TVector b)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var two = TLanes.Create(2f);
        a = TLanes.Add(a, a);
        b = TLanes.Add(b, b);
        FloatExp.EvaluatePair<TLanes, TVector>(ref a, ref b);
        a = TLanes.Subtract(one, TLanes.Divide(two, TLanes.Add(one, a)));
        b = TLanes.Subtract(one, TLanes.Divide(two, TLanes.Add(one, b)));
    }

    internal static long CheckSizes(int batch, int hidden)
    {
        ArgumentChecks.ThrowIfNegative(batch);
        ArgumentChecks.ThrowIfNegative(hidden);
        return (long)batch * hidden;
    }

    internal static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} holds {actual} elements but the cell needs {required}.", name);
        }
    }

    private readonly struct ForwardRows(float* pre, float* cPrev, float* gates, float* c, float* h, int hidden, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long b = start; b < start + count; b++)
            {
                long wide = b * 4 * hidden, row = b * hidden;
                ForwardUnits(pre + wide, cPrev + row, gates + wide, c + row, h + row, hidden, hidden, width);
            }
        }
    }

    private readonly struct BackwardRows(float* gates, float* c, float* cPrev, float* dh, float* dcNext, float* dPre, float* dcPrev, int hidden, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long b = start; b < start + count; b++)
            {
                long wide = b * 4 * hidden, row = b * hidden;
                BackwardUnits(gates + wide, c + row, cPrev + row, dh + row, dcNext + row, dPre + wide, dcPrev + row, hidden, hidden, width);
            }
        }
    }

    /// <summary>The forward cell's pointers, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct ForwardSweep(float* pre, float* cPrev, float* gates, float* c, float* h, int hidden) : IFloatLanesSweep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => ForwardRegisters<TLanes, TVector>(pre, cPrev, gates, c, h, hidden, start, n);
    }

    /// <summary>The backward cell's pointers, run widest first by <see cref="FloatLanesLoop"/>.</summary>
    private readonly struct BackwardSweep(float* gates, float* c, float* cPrev, float* dh, float* dcNext, float* dPre, float* dcPrev, int hidden) : IFloatLanesSweep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => BackwardRegisters<TLanes, TVector>(gates, c, cPrev, dh, dcNext, dPre, dcPrev, hidden, start, n);
    }
}
