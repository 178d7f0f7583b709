using System.Globalization;
using Tensorlet.Backends;
using Tensorlet.Kernels;

namespace Tensorlet;

/// <summary>
/// The tensor operations. Each checks that its tensors are alive, share one device and have
/// matching shapes, then queues the device's kernel. A tensor of any rank is read as a matrix of
/// <see cref="DeviceTensor{T}.Rows"/> × <see cref="DeviceTensor{T}.Columns"/> where an operation works on matrices.
/// </summary>
public static class Ops
{
    /// <summary>Sets every element of <paramref name="x"/> to <paramref name="value"/>.</summary>
    public static void Fill(Tensor x, float value)
    {
        var device = SameDevice(nameof(Fill), x);
        device.Backend.Fill(x, value);
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> on the device.</summary>
    public static void Copy(Tensor source, Tensor destination)
    {
        var device = SameDevice(nameof(Copy), source, destination);
        SameLength(nameof(Copy), source, destination);
        device.Backend.Copy(source, destination);
    }

    /// <summary>
    /// The largest M, N or K <see cref="Gemm"/> takes: the backends round each up to whole tiles, which are far
    /// smaller than 2²⁰, in int arithmetic.
    /// </summary>
    internal const int GemmMaxDimension = int.MaxValue - (1 << 20);

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C on matrices, where op transposes when asked.
    /// op(A) must be [m,k], op(B) [k,n] and C [m,n], none of them over <see cref="GemmMaxDimension"/>.
    /// </summary>
    public static void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha = 1f, float beta = 0f)
    {
        var device = SameDevice(nameof(Gemm), a, b, c);
        int m = transposeA ? a.Columns : a.Rows;
        int k = transposeA ? a.Rows : a.Columns;
        int kb = transposeB ? b.Columns : b.Rows;
        int n = transposeB ? b.Rows : b.Columns;
        if (k != kb || c.Rows != m || c.Columns != n)
        {
            throw new ArgumentException(
                $"Gemm shape mismatch: op(A) is [{m}, {k}] (A {a.ShapeText}{(transposeA ? "ᵀ" : string.Empty)}), " +
                $"op(B) is [{kb}, {n}] (B {b.ShapeText}{(transposeB ? "ᵀ" : string.Empty)}), C is {c.ShapeText}; need op(A) [m,k] · op(B) [k,n] = C [m,n].");
        }

        if (Math.Max(m, Math.Max(n, k)) > GemmMaxDimension)
        {
            throw new ArgumentException($"Gemm: op(A) [{m}, {k}] · op(B) [{k}, {n}] has a dimension over {GemmMaxDimension}, the most a GEMM takes.");
        }

        device.Backend.Gemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
    }

    /// <summary>
    /// c1 = alpha·op(a)·b1 + beta·c1 and c2 = alpha·op(a)·b2 + beta·c2, each element the same float as
    /// <see cref="Gemm"/> gives; a backend may read op(a) once for both (the LSTM's dW_ih and dW_hh share d(pre)).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not chain as two <see cref="Gemm"/> calls with untransposed Bs.</exception>
    /// <exception cref="InvalidOperationException">The tensors are not all on one device.</exception>
    internal static void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, float alpha = 1f, float beta = 0f)
    {
        var device = SameDevice(nameof(GemmSharedA), a, b1, c1, b2, c2);
        int m = transposeA ? a.Columns : a.Rows;
        int k = transposeA ? a.Rows : a.Columns;
        if (b1.Rows != k || b2.Rows != k || c1.Rows != m || c2.Rows != m || c1.Columns != b1.Columns || c2.Columns != b2.Columns)
        {
            throw new ArgumentException(
                $"GemmSharedA shape mismatch: op(A) is [{m}, {k}], B1 {b1.ShapeText}, C1 {c1.ShapeText}, B2 {b2.ShapeText}, C2 {c2.ShapeText}; " +
                "need op(A) [m,k] · B [k,n] = C [m,n] for both.");
        }

        device.Backend.GemmSharedA(a, transposeA, b1, c1, b2, c2, m, b1.Columns, b2.Columns, k, alpha, beta);
    }

    /// <summary>
    /// y = one-hot(indices)·weightᵀ + bias, done as a lookup: y[i, o] = weight[o, indices[i]] + bias[o], written in one
    /// pass over y. weight is a Linear-layout matrix [Out, In]; indices [N] with values in [0, In); y [N, Out]; bias
    /// Out long ([Out] or [1, Out], as <see cref="AddBias"/> takes it), or null for none. Each element is the same float
    /// as a gather followed by <see cref="AddBias"/>.
    /// </summary>
    /// <exception cref="ArgumentException">y, or the bias, does not have the shape above.</exception>
    /// <exception cref="InvalidOperationException">The tensors are not all on one device.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, In); on every device, before anything is written.</exception>
    public static void GatherColumns(Tensor weight, IndexTensor indices, Tensor y, Tensor? bias = null)
    {
        var device = bias is null ? SameDevice(nameof(GatherColumns), weight, y) : SameDevice(nameof(GatherColumns), weight, y, bias);
        SameDevice(nameof(GatherColumns), device, indices);
        if (y.Rows != indices.Length || y.Columns != weight.Rows)
        {
            throw new ArgumentException($"GatherColumns shape mismatch: weight {weight.ShapeText}, indices {indices.ShapeText}, y {y.ShapeText}; need y [{indices.Length}, {weight.Rows}].");
        }

        if (bias is not null && bias.Length != weight.Rows)
        {
            throw new ArgumentException($"GatherColumns shape mismatch: weight {weight.ShapeText} has {weight.Rows} rows but bias is {bias.ShapeText}; need a bias of {weight.Rows} elements.");
        }

        indices.ThrowIfAnyColumnOutside(weight.Columns);
        device.Backend.GatherColumns(weight, indices, y, bias);
    }

    /// <summary>The backward of <see cref="GatherColumns"/>, accumulating: dWeight[o, indices[i]] += dy[i, o].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, In); on every device, before anything is written.</exception>
    public static void ScatterAddColumns(Tensor dy, IndexTensor indices, Tensor dWeight)
    {
        var device = SameDevice(nameof(ScatterAddColumns), dy, dWeight);
        SameDevice(nameof(ScatterAddColumns), device, indices);
        if (dy.Rows != indices.Length || dy.Columns != dWeight.Rows)
        {
            throw new ArgumentException($"ScatterAddColumns shape mismatch: dy {dy.ShapeText}, indices {indices.ShapeText}, dWeight {dWeight.ShapeText}; need dy [{indices.Length}, {dWeight.Rows}].");
        }

        indices.ThrowIfAnyColumnOutside(dWeight.Columns);
        device.Backend.ScatterAddColumns(dy, indices, dWeight);
    }

    /// <summary>x[i, j] = row[j] for every row i: one write pass where Fill and then AddBias would make two.</summary>
    internal static void FillRows(Tensor x, Tensor row)
    {
        var device = SameDevice(nameof(FillRows), x, row);
        if (row.Length != x.Columns)
        {
            throw new ArgumentException($"FillRows shape mismatch: x {x.ShapeText} has {x.Columns} columns but row is {row.ShapeText}.");
        }

        device.Backend.FillRows(x, row);
    }

    /// <summary>x[i, j] += bias[j] for every row i.</summary>
    public static void AddBias(Tensor x, Tensor bias)
    {
        var device = SameDevice(nameof(AddBias), x, bias);
        if (bias.Length != x.Columns)
        {
            throw new ArgumentException($"AddBias shape mismatch: x {x.ShapeText} has {x.Columns} columns but bias is {bias.ShapeText}.");
        }

        device.Backend.AddBias(x, bias);
    }

    /// <summary>y[j] = Σ_i x[i, j], added to y when <paramref name="accumulate"/> is true.</summary>
    public static void SumColumns(Tensor x, Tensor y, bool accumulate = false)
    {
        var device = SameDevice(nameof(SumColumns), x, y);
        if (y.Length != x.Columns)
        {
            throw new ArgumentException($"SumColumns shape mismatch: x {x.ShapeText} has {x.Columns} columns but y is {y.ShapeText}.");
        }

        device.Backend.SumColumns(x, y, accumulate);
    }

    /// <summary>The fused LSTM cell forward; see the gate order i,f,g,o of PyTorch. gates may be preactivations.</summary>
    internal static void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
    {
        var device = SameDevice(nameof(LstmCellForward), preactivations, cPrev, gates, c, h);
        CheckCellShapes(nameof(LstmCellForward), preactivations, gates, cPrev, c, h);
        device.Backend.LstmCellForward(preactivations, cPrev, gates, c, h);
    }

    /// <summary>The fused LSTM cell backward. dcPrev may be dcNext.</summary>
    internal static void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
    {
        var device = SameDevice(nameof(LstmCellBackward), gates, c, cPrev, dh, dcNext, dPreactivations, dcPrev);
        CheckCellShapes(nameof(LstmCellBackward), gates, dPreactivations, c, cPrev, dh, dcNext, dcPrev);
        device.Backend.LstmCellBackward(gates, c, cPrev, dh, dcNext, dPreactivations, dcPrev);
    }

    /// <summary>
    /// The recurrent half of an LSTM layer over all steps, where the device has it fused (see
    /// <see cref="Backends.IKernelBackend.TryLstmRecurrenceForward"/>); false, with nothing done, where the caller runs
    /// the steps itself through <see cref="Gemm"/> and <see cref="LstmCellForward"/>.
    /// </summary>
    internal static bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        var device = SameDevice(nameof(TryLstmRecurrenceForward), gates, cells, hidden, h0, c0, weightHh);
        CheckRecurrenceShapes(nameof(TryLstmRecurrenceForward), gates, weightHh, steps, batch, [cells, hidden], [h0, c0]);
        return device.Backend.TryLstmRecurrenceForward(gates, cells, hidden, h0, c0, hasInitialHidden, weightHh, steps, batch);
    }

    /// <summary>
    /// The backward of <see cref="TryLstmRecurrenceForward"/>, writing d(pre) and its column sums <paramref name="dBias"/>
    /// [1, 4H]; false, with nothing done, where the caller runs the steps itself.
    /// </summary>
    internal static bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor dBias, Tensor weightHh, int steps, int batch)
    {
        var device = SameDevice(nameof(TryLstmRecurrenceBackward), gates, cells, c0, dH, dc, dPre, dBias, weightHh);
        CheckRecurrenceShapes(nameof(TryLstmRecurrenceBackward), gates, weightHh, steps, batch, [cells, dH], [c0, dc]);
        CheckSameShape(nameof(TryLstmRecurrenceBackward), gates, [dPre]);
        CheckBiasGradients(nameof(TryLstmRecurrenceBackward), gates.Columns, dBias);

        return device.Backend.TryLstmRecurrenceBackward(gates, cells, c0, dH, dc, dPre, dBias, weightHh, steps, batch);
    }

    /// <summary>
    /// Two stacked LSTM layers' forward recurrences scheduled together where the device does that (see
    /// <see cref="Backends.IKernelBackend.TryLstmWavefrontForward"/>); false, with nothing done, where the caller runs the
    /// layers one after the other.
    /// </summary>
    internal static bool TryLstmWavefrontForward(in LstmLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in LstmLayerTensors upper, int steps, int batch)
    {
        var device = SameDevice(nameof(TryLstmWavefrontForward), lower.Gates, lower.Cells, lower.Hidden, lower.H0, lower.C0, lower.WeightHh, upperInput, weightIh, bias, upper.Gates, upper.Cells, upper.Hidden, upper.H0, upper.C0, upper.WeightHh);
        CheckRecurrenceShapes(nameof(TryLstmWavefrontForward), 4, [lower.Gates, upper.Gates], lower.WeightHh, steps, batch, [lower.Cells, lower.Hidden, upper.Cells, upper.Hidden, upperInput], [lower.H0, lower.C0, upper.H0, upper.C0]);
        CheckSameShape(nameof(TryLstmWavefrontForward), lower.WeightHh, [upper.WeightHh, weightIh]);
        if (bias.Length != lower.Gates.Columns || !(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentException($"{nameof(TryLstmWavefrontForward)}: bias {bias.ShapeText} must hold {lower.Gates.Columns} values and dropout {dropout} be in [0, 1).");
        }

        return device.Backend.TryLstmWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, bias, upper, steps, batch);
    }

    /// <summary>The backward of <see cref="TryLstmWavefrontForward"/>; false, with nothing done, where the caller runs the layers one after the other.</summary>
    internal static bool TryLstmWavefrontBackward(in LstmLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientTensors lower, int steps, int batch)
    {
        var device = SameDevice(nameof(TryLstmWavefrontBackward), upper.Gates, upper.Cells, upper.C0, upper.DH, upper.Dc, upper.DPre, upper.DBias, upper.WeightHh, weightIh, lower.Gates, lower.Cells, lower.C0, lower.DH, lower.Dc, lower.DPre, lower.DBias, lower.WeightHh);
        CheckRecurrenceShapes(nameof(TryLstmWavefrontBackward), 4, [upper.Gates, upper.DPre, lower.Gates, lower.DPre], upper.WeightHh, steps, batch, [upper.Cells, upper.DH, lower.Cells, lower.DH], [upper.C0, upper.Dc, lower.C0, lower.Dc]);
        CheckSameShape(nameof(TryLstmWavefrontBackward), upper.WeightHh, [lower.WeightHh, weightIh]);
        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {dropout}."));
        }

        CheckBiasGradients(nameof(TryLstmWavefrontBackward), upper.Gates.Columns, upper.DBias, lower.DBias);

        return device.Backend.TryLstmWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, steps, batch);
    }

    /// <summary>
    /// Two stacked GRU layers' forward recurrences scheduled together where the device does that (see
    /// <see cref="Backends.IKernelBackend.TryGruWavefrontForward"/>); false, with nothing done, where the caller runs the
    /// layers one after the other.
    /// </summary>
    internal static bool TryGruWavefrontForward(in GruLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor biasIh, in GruLayerTensors upper, int steps, int batch)
    {
        var device = SameDevice(nameof(TryGruWavefrontForward), lower.Gi, lower.Gh, lower.Hidden, lower.H0, lower.WeightHh, upperInput, weightIh, biasIh, upper.Gi, upper.Gh, upper.Hidden, upper.H0, upper.WeightHh);
        CheckRecurrenceShapes(nameof(TryGruWavefrontForward), 3, [lower.Gi, lower.Gh, upper.Gi, upper.Gh], lower.WeightHh, steps, batch, [lower.Hidden, upper.Hidden, upperInput], [lower.H0, upper.H0]);
        CheckSameShape(nameof(TryGruWavefrontForward), lower.WeightHh, [upper.WeightHh, weightIh]);
        if (biasIh.Length != lower.Gi.Columns || !(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentException($"{nameof(TryGruWavefrontForward)}: bias {biasIh.ShapeText} must hold {lower.Gi.Columns} values and dropout {dropout} be in [0, 1).");
        }

        return device.Backend.TryGruWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, biasIh, upper, steps, batch);
    }

    /// <summary>The backward of <see cref="TryGruWavefrontForward"/>; false, with nothing done, where the caller runs the layers one after the other.</summary>
    internal static bool TryGruWavefrontBackward(in GruLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientTensors lower, int steps, int batch)
    {
        var device = SameDevice(nameof(TryGruWavefrontBackward), upper.Gates, upper.Gh, upper.Hidden, upper.H0, upper.DH, upper.DhCarry, upper.Dgi, upper.Dgh, upper.DBiasIh, upper.DBiasHh, upper.WeightHh, weightIh, lower.Gates, lower.Gh, lower.Hidden, lower.H0, lower.DH, lower.DhCarry, lower.Dgi, lower.Dgh, lower.DBiasIh, lower.DBiasHh, lower.WeightHh);
        CheckRecurrenceShapes(nameof(TryGruWavefrontBackward), 3, [upper.Gates, upper.Gh, upper.Dgi, upper.Dgh, lower.Gates, lower.Gh, lower.Dgi, lower.Dgh], upper.WeightHh, steps, batch, [upper.Hidden, upper.DH, lower.Hidden, lower.DH], [upper.H0, upper.DhCarry, lower.H0, lower.DhCarry]);
        CheckSameShape(nameof(TryGruWavefrontBackward), upper.WeightHh, [lower.WeightHh, weightIh]);
        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {dropout}."));
        }

        CheckBiasGradients(nameof(TryGruWavefrontBackward), upper.Gates.Columns, upper.DBiasIh, upper.DBiasHh, lower.DBiasIh, lower.DBiasHh);
        return device.Backend.TryGruWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, steps, batch);
    }

    /// <summary>
    /// The fused GRU cell forward, PyTorch's gate order r, z, n: from gi = x·W_ihᵀ + b_ih and gh = hPrev·W_hhᵀ + b_hh
    /// [B,3H] and hPrev [B,H], writes gates [B,3H] = r, z, n and h [B,H]. gates may be gi.
    /// </summary>
    internal static void GruCellForward(Tensor gi, Tensor gh, Tensor hPrev, Tensor gates, Tensor h)
    {
        var device = SameDevice(nameof(GruCellForward), gi, gh, hPrev, gates, h);
        CheckGateShapes(nameof(GruCellForward), 3, [gi, gh, gates], [hPrev, h]);
        device.Backend.GruCellForward(gi, gh, hPrev, gates, h);
    }

    /// <summary>
    /// The fused GRU cell backward, from the saved gates, gh and hPrev, with dh + dhNext reaching h: writes dgi and dgh
    /// [B,3H] and dhPrev = (dh + dhNext)·z [B,H], the part of dL/dhPrev that does not pass through W_hh.
    /// dgi may be gates, dgh may be gh, and dhPrev may be dhNext.
    /// </summary>
    internal static void GruCellBackward(Tensor gates, Tensor gh, Tensor hPrev, Tensor dh, Tensor dhNext, Tensor dgi, Tensor dgh, Tensor dhPrev)
    {
        var device = SameDevice(nameof(GruCellBackward), gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev);
        CheckGateShapes(nameof(GruCellBackward), 3, [gates, gh, dgi, dgh], [hPrev, dh, dhNext, dhPrev]);
        device.Backend.GruCellBackward(gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev);
    }

    /// <summary>
    /// The recurrent half of a GRU layer over all steps, where the device has it fused (see
    /// <see cref="Backends.IKernelBackend.TryGruRecurrenceForward"/>); false, with nothing done, where the caller runs
    /// the steps itself through <see cref="Gemm"/> and <see cref="GruCellForward"/>.
    /// </summary>
    internal static bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        var device = SameDevice(nameof(TryGruRecurrenceForward), gi, gh, hidden, h0, weightHh);
        CheckRecurrenceShapes(nameof(TryGruRecurrenceForward), 3, [gi, gh], weightHh, steps, batch, [hidden], [h0]);
        return device.Backend.TryGruRecurrenceForward(gi, gh, hidden, h0, hasInitialHidden, weightHh, steps, batch);
    }

    /// <summary>
    /// The backward of <see cref="TryGruRecurrenceForward"/>, writing dgi and dgh and their column sums
    /// <paramref name="dBiasIh"/> and <paramref name="dBiasHh"/> [1, 3H]; false, with nothing done, where the caller runs the steps itself.
    /// </summary>
    internal static bool TryGruRecurrenceBackward(
        Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor dBiasIh, Tensor dBiasHh, Tensor weightHh, int steps, int batch)
    {
        var device = SameDevice(nameof(TryGruRecurrenceBackward), gates, gh, hidden, h0, dH, dhCarry, dgi, dgh, dBiasIh, dBiasHh, weightHh);
        CheckRecurrenceShapes(nameof(TryGruRecurrenceBackward), 3, [gates, gh, dgi, dgh], weightHh, steps, batch, [hidden, dH], [h0, dhCarry]);
        CheckBiasGradients(nameof(TryGruRecurrenceBackward), gates.Columns, dBiasIh, dBiasHh);
        return device.Backend.TryGruRecurrenceBackward(gates, gh, hidden, h0, dH, dhCarry, dgi, dgh, dBiasIh, dBiasHh, weightHh, steps, batch);
    }

    /// <summary>
    /// The recurrent half of an Elman RNN layer over all steps, where the device has it fused (see
    /// <see cref="Backends.IKernelBackend.TryRnnRecurrenceForward"/>); false, with nothing done, where the caller runs
    /// the steps itself through <see cref="Gemm"/> and <see cref="ActivationForward"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is neither tanh nor relu, or a shape does not match.</exception>
    internal static bool TryRnnRecurrenceForward(Tensor pre, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, Activation activation, int steps, int batch)
    {
        var device = SameDevice(nameof(TryRnnRecurrenceForward), pre, hidden, h0, weightHh);
        CheckRecurrenceShapes(nameof(TryRnnRecurrenceForward), 1, [pre], weightHh, steps, batch, [hidden], [h0]);
        CheckRnnActivation(nameof(TryRnnRecurrenceForward), activation);
        return device.Backend.TryRnnRecurrenceForward(pre, hidden, h0, hasInitialHidden, weightHh, activation, steps, batch);
    }

    /// <summary>
    /// The backward of <see cref="TryRnnRecurrenceForward"/>, writing d(pre) and its column sums <paramref name="dBias"/>
    /// [1, H]; false, with nothing done, where the caller runs the steps itself.
    /// </summary>
    internal static bool TryRnnRecurrenceBackward(Tensor hidden, Tensor dH, Tensor dPre, Tensor dBias, Tensor weightHh, Activation activation, int steps, int batch)
    {
        var device = SameDevice(nameof(TryRnnRecurrenceBackward), hidden, dH, dPre, dBias, weightHh);
        CheckRecurrenceShapes(nameof(TryRnnRecurrenceBackward), 1, [dPre], weightHh, steps, batch, [hidden, dH], []);
        CheckBiasGradients(nameof(TryRnnRecurrenceBackward), dPre.Columns, dBias);
        CheckRnnActivation(nameof(TryRnnRecurrenceBackward), activation);
        return device.Backend.TryRnnRecurrenceBackward(hidden, dH, dPre, dBias, weightHh, activation, steps, batch);
    }

    /// <summary>
    /// Two stacked RNN layers' forward recurrences scheduled together where the device does that (see
    /// <see cref="Backends.IKernelBackend.TryRnnWavefrontForward"/>); false, with nothing done, where the caller runs the
    /// layers one after the other.
    /// </summary>
    internal static bool TryRnnWavefrontForward(in RnnLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in RnnLayerTensors upper, Activation activation, int steps, int batch)
    {
        var device = SameDevice(nameof(TryRnnWavefrontForward), lower.Pre, lower.Hidden, lower.H0, lower.WeightHh, upperInput, weightIh, bias, upper.Pre, upper.Hidden, upper.H0, upper.WeightHh);
        CheckRecurrenceShapes(nameof(TryRnnWavefrontForward), 1, [lower.Pre, upper.Pre], lower.WeightHh, steps, batch, [lower.Hidden, upper.Hidden, upperInput], [lower.H0, upper.H0]);
        CheckSameShape(nameof(TryRnnWavefrontForward), lower.WeightHh, [upper.WeightHh, weightIh]);
        if (bias.Length != lower.Pre.Columns || !(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentException($"{nameof(TryRnnWavefrontForward)}: bias {bias.ShapeText} must hold {lower.Pre.Columns} values and dropout {dropout} be in [0, 1).");
        }

        CheckRnnActivation(nameof(TryRnnWavefrontForward), activation);
        return device.Backend.TryRnnWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, bias, upper, activation, steps, batch);
    }

    /// <summary>The backward of <see cref="TryRnnWavefrontForward"/>; false, with nothing done, where the caller runs the layers one after the other.</summary>
    internal static bool TryRnnWavefrontBackward(in RnnLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientTensors lower, Activation activation, int steps, int batch)
    {
        var device = SameDevice(nameof(TryRnnWavefrontBackward), upper.Hidden, upper.DH, upper.DPre, upper.DBias, upper.WeightHh, weightIh, lower.Hidden, lower.DH, lower.DPre, lower.DBias, lower.WeightHh);
        CheckRecurrenceShapes(nameof(TryRnnWavefrontBackward), 1, [upper.DPre, lower.DPre], upper.WeightHh, steps, batch, [upper.Hidden, upper.DH, lower.Hidden, lower.DH], []);
        CheckSameShape(nameof(TryRnnWavefrontBackward), upper.WeightHh, [lower.WeightHh, weightIh]);
        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {dropout}."));
        }

        CheckBiasGradients(nameof(TryRnnWavefrontBackward), upper.DPre.Columns, upper.DBias, lower.DBias);
        CheckRnnActivation(nameof(TryRnnWavefrontBackward), activation);
        return device.Backend.TryRnnWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, activation, steps, batch);
    }

    /// <summary>
    /// Fused softmax and cross-entropy: per-row losses in nats, and dLogits = (softmax − onehot)·gradScale.
    /// Use gradScale = 1/N for nn.CrossEntropyLoss's mean. dLogits may be logits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, V); on every device, before anything is written.</exception>
    public static void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale)
        => SoftmaxCrossEntropy(logits, targets, losses, dLogits, gradScale, null);

    /// <summary>
    /// As the public <see cref="SoftmaxCrossEntropy(Tensor, IndexTensor, Tensor, Tensor, float)"/>, but a row whose target is
    /// <paramref name="ignoreIndex"/> (when not null) gets loss 0 and the gradient softmax·0 (0, or NaN where its softmax
    /// is, as PyTorch's), and that target is not range-checked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another target is outside [0, V); on every device, before anything is written.</exception>
    internal static void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale, int? ignoreIndex)
        => CheckRowLoss(nameof(SoftmaxCrossEntropy), logits, targets, losses, dLogits, ignoreIndex).Backend.SoftmaxCrossEntropy(logits, targets, losses, dLogits, gradScale, ignoreIndex);

    /// <summary>
    /// nn.NLLLoss per row of log-probabilities [N, C]: losses = −input[r, targets[r]], and dInput = −onehot·gradScale;
    /// a row whose target is <paramref name="ignoreIndex"/> (when not null) gets loss 0 and a zero gradient, whatever
    /// it holds. Use gradScale = 1/N for the mean. dInput may be input.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another target is outside [0, C); on every device, before anything is written.</exception>
    internal static void NllLoss(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex)
        => CheckRowLoss(nameof(NllLoss), input, targets, losses, dInput, ignoreIndex).Backend.NllLoss(input, targets, losses, dInput, gradScale, ignoreIndex);

    /// <summary>y = log_softmax(x) per row (nn.LogSoftmax over the last dimension of a matrix), shifted by each row's maximum.</summary>
    /// <exception cref="ArgumentException">y is not shaped as x, or is x's buffer.</exception>
    internal static void LogSoftmax(Tensor x, Tensor y)
    {
        var device = SameDevice(nameof(LogSoftmax), x, y);
        CheckSameShape(nameof(LogSoftmax), x, [y]);
        if (ReferenceEquals(x.Storage, y.Storage))
        {
            throw new ArgumentException($"LogSoftmax: y {y.ShapeText} must be a buffer of its own, not x's.");
        }

        device.Backend.LogSoftmax(x, y);
    }

    /// <summary>The backward of the row softmax from its output y: dx = y ⊙ (dy − Σ_row dy⊙y). dx may be dy.</summary>
    internal static void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        var device = SameDevice(nameof(SoftmaxBackward), y, dy, dx);
        CheckSameShape(nameof(SoftmaxBackward), y, [dy, dx]);
        device.Backend.SoftmaxBackward(y, dy, dx);
    }

    /// <summary>The backward of <see cref="LogSoftmax"/> from its output y: dx = dy − e^y·Σ_row dy. dx may be dy.</summary>
    internal static void LogSoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        var device = SameDevice(nameof(LogSoftmaxBackward), y, dy, dx);
        CheckSameShape(nameof(LogSoftmaxBackward), y, [dy, dx]);
        device.Backend.LogSoftmaxBackward(y, dy, dx);
    }

    /// <summary>
    /// Layer normalization of each row of x read as a matrix [N, D] (nn.LayerNorm over the last dimension of a matrix):
    /// y = (x − mean)·rstd·weight + bias, with each row's mean and rstd = 1/√(var + epsilon) [N] written for the backward
    /// (var the biased variance). weight and bias are D long, or null for none. y may be x.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit x [N, D] with D ≥ 1, or epsilon is negative or not finite.</exception>
    internal static void LayerNormForward(Tensor x, Tensor? weight, Tensor? bias, float epsilon, Tensor y, Tensor mean, Tensor rstd)
    {
        var device = SameDevice(nameof(LayerNormForward), x, y, mean, rstd);
        CheckLayerNormShapes(nameof(LayerNormForward), x, y, mean, rstd, weight, bias);
        if (!(epsilon >= 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), string.Create(CultureInfo.InvariantCulture, $"The layer norm's epsilon must be a finite number ≥ 0; got {epsilon}."));
        }

        device.Backend.LayerNormForward(x, weight, bias, epsilon, y, mean, rstd);
    }

    /// <summary>
    /// The backward of <see cref="LayerNormForward"/> from its x, mean and rstd: writes dx and adds dL/dweight to
    /// <paramref name="dWeight"/> and dL/dbias to <paramref name="dBias"/> (each D long, or null to skip). dx may be dy.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit x [N, D].</exception>
    internal static void LayerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias)
    {
        var device = SameDevice(nameof(LayerNormBackward), x, mean, rstd, dy, dx);
        CheckLayerNormShapes(nameof(LayerNormBackward), x, dy, mean, rstd, weight, dWeight, dBias);
        CheckSameShape(nameof(LayerNormBackward), x, [dx]);
        device.Backend.LayerNormBackward(x, mean, rstd, weight, dy, dx, dWeight, dBias);
    }

    /// <summary>
    /// Each channel's mean and biased variance [C] of x [N, C] or [N, C, L] (nn.BatchNorm1d's channels: x[n, c, l] over
    /// every n and l, M = N·L values); with <paramref name="runningMean"/> and <paramref name="runningVariance"/> (both or
    /// neither), updates them as nn.BatchNorm1d does in training: running = (1 − factor)·running + factor·batch, with the
    /// unbiased variance var·M/(M − 1).
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit x [N, C(, L)], M is 0 (or 1 with running statistics), or factor is outside [0, 1].</exception>
    internal static void BatchNormStatistics(Tensor x, Tensor mean, Tensor variance, Tensor? runningMean, Tensor? runningVariance, float factor)
    {
        var device = SameDevice(nameof(BatchNormStatistics), x, mean, variance);
        CheckBatchNormShapes(nameof(BatchNormStatistics), x, x, mean, variance, runningMean, runningVariance);
        if ((runningMean is null) != (runningVariance is null))
        {
            throw new ArgumentException($"{nameof(BatchNormStatistics)} takes both running statistics or neither.");
        }

        long count = mean.Length == 0 ? 0 : x.Length / mean.Length;
        if (mean.Length > 0 && count < (runningMean is null ? 1 : 2))
        {
            throw new ArgumentException($"{nameof(BatchNormStatistics)} needs more than {count} value(s) per channel of x {x.ShapeText}{(runningMean is null ? string.Empty : " to update the running variance")}.");
        }

        if (!(factor is >= 0f and <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), string.Create(CultureInfo.InvariantCulture, $"The running statistics' factor must be in [0, 1]; got {factor}."));
        }

        device.Backend.BatchNormStatistics(x, mean, variance, runningMean, runningVariance, factor);
    }

    /// <summary>
    /// y = (x − mean)/√(variance + epsilon)·weight + bias per channel of x [N, C] or [N, C, L] (nn.BatchNorm1d's
    /// normalization, with the batch's statistics or running ones [C]); weight and bias are C long, or null for none. y may be x.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit x [N, C(, L)], or epsilon is negative or not finite.</exception>
    internal static void BatchNormForward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float epsilon, Tensor y)
    {
        var device = SameDevice(nameof(BatchNormForward), x, mean, variance, y);
        CheckBatchNormShapes(nameof(BatchNormForward), x, y, mean, variance, weight, bias);
        if (!(epsilon >= 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), string.Create(CultureInfo.InvariantCulture, $"The batch norm's epsilon must be a finite number ≥ 0; got {epsilon}."));
        }

        device.Backend.BatchNormForward(x, mean, variance, weight, bias, epsilon, y);
    }

    /// <summary>
    /// The backward of <see cref="BatchNormForward"/>: writes dx and adds dL/dweight to <paramref name="dWeight"/> and
    /// dL/dbias to <paramref name="dBias"/> (each C long, or null to skip). With <paramref name="batchStatistics"/> the
    /// mean and variance are the batch's own (training), whose dependence on x dx includes; without, running statistics,
    /// constants. dx may be dy.
    /// </summary>
    /// <exception cref="ArgumentException">A shape does not fit x [N, C(, L)].</exception>
    internal static void BatchNormBackward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, float epsilon, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias, bool batchStatistics)
    {
        var device = SameDevice(nameof(BatchNormBackward), x, mean, variance, dy, dx);
        CheckBatchNormShapes(nameof(BatchNormBackward), x, dy, mean, variance, weight, dWeight, dBias);
        CheckSameShape(nameof(BatchNormBackward), x, [dx]);
        device.Backend.BatchNormBackward(x, mean, variance, weight, epsilon, dy, dx, dWeight, dBias, batchStatistics);
    }

    /// <summary>
    /// y = activation(x). y may be x, but not for an activation whose backward reads x (<see cref="Activation.Gelu"/>,
    /// <see cref="Activation.GeluTanh"/>, <see cref="Activation.Silu"/>) if its backward is to run: the forward
    /// overwrites the x it needs.
    /// </summary>
    /// <exception cref="ArgumentException">The activation is <see cref="Activation.LeakyRelu"/>, whose slope <see cref="LeakyReluForward"/> takes.</exception>
    public static void ActivationForward(Activation activation, Tensor x, Tensor y)
    {
        var device = SameDevice(nameof(ActivationForward), x, y);
        SameLength(nameof(ActivationForward), x, y);
        NotLeakyRelu(nameof(ActivationForward), activation);
        device.Backend.ActivationForward(activation, x, y);
    }

    /// <summary>
    /// dx = dy·activation'(x), from the forward's input x and its output y = activation(x): relu, tanh and sigmoid
    /// compute it from y, an activation whose derivative needs x from x. dx may be dy.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The activation reads x and x is y: its forward ran in place and x is gone. Or it is <see cref="Activation.LeakyRelu"/>,
    /// whose slope <see cref="LeakyReluBackward"/> takes.
    /// </exception>
    public static void ActivationBackward(Activation activation, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        var device = SameDevice(nameof(ActivationBackward), x, y, dy, dx);
        SameLength(nameof(ActivationBackward), y, x);
        SameLength(nameof(ActivationBackward), y, dy);
        SameLength(nameof(ActivationBackward), y, dx);
        NotLeakyRelu(nameof(ActivationBackward), activation);
        if (activation is Activation.Gelu or Activation.GeluTanh or Activation.Silu && ReferenceEquals(x.Storage, y.Storage) && x.Offset == y.Offset)
        {
            throw new ArgumentException($"The {activation} backward reads the forward's input x, but x is its output y: run its forward out of place.", nameof(x));
        }

        device.Backend.ActivationBackward(activation, x, y, dy, dx);
    }

    /// <summary>
    /// Leaky ReLU, as torch.nn.functional.leaky_relu: y = x for x &gt; 0, else negativeSlope·x. Any slope but NaN, as
    /// PyTorch takes any (negative, zero, above 1, infinite). y may be x, but not if the backward is to run: it reads x.
    /// </summary>
    /// <exception cref="ArgumentException">The slope is NaN.</exception>
    public static void LeakyReluForward(Tensor x, Tensor y, float negativeSlope)
    {
        var device = SameDevice(nameof(LeakyReluForward), x, y);
        SameLength(nameof(LeakyReluForward), x, y);
        CheckNegativeSlope(nameof(LeakyReluForward), negativeSlope);
        device.Backend.LeakyReluForward(x, y, negativeSlope);
    }

    /// <summary>
    /// The backward of <see cref="LeakyReluForward"/>: dx = dy for x &gt; 0, else negativeSlope·dy (at x = 0 too, as
    /// PyTorch), from the forward's input x. dx may be dy.
    /// </summary>
    /// <exception cref="ArgumentException">The slope is NaN.</exception>
    public static void LeakyReluBackward(Tensor x, Tensor dy, Tensor dx, float negativeSlope)
    {
        var device = SameDevice(nameof(LeakyReluBackward), x, dy, dx);
        SameLength(nameof(LeakyReluBackward), x, dy);
        SameLength(nameof(LeakyReluBackward), x, dx);
        CheckNegativeSlope(nameof(LeakyReluBackward), negativeSlope);
        device.Backend.LeakyReluBackward(x, dy, dx, negativeSlope);
    }

    /// <summary>Refuses a NaN leaky ReLU slope, which would make every output it touches NaN.</summary>
    internal static void CheckNegativeSlope(string op, float negativeSlope)
    {
        if (float.IsNaN(negativeSlope))
        {
            throw new ArgumentException($"{op}: the negative slope is NaN; it may be any other float.", nameof(negativeSlope));
        }
    }

    private static void NotLeakyRelu(string op, Activation activation)
    {
        if (activation == Activation.LeakyRelu)
        {
            throw new ArgumentException($"{op}: LeakyRelu has a slope; run it with {nameof(LeakyReluForward)} and {nameof(LeakyReluBackward)}.", nameof(activation));
        }
    }

    /// <summary>Inverted dropout with a counter-based mask keyed by (seed, stream); the backward is the same call on gradients.</summary>
    public static void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream)
    {
        var device = SameDevice(nameof(Dropout), x, y);
        SameLength(nameof(Dropout), x, y);
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), string.Create(CultureInfo.InvariantCulture, $"Dropout probability must be in [0, 1); got {p}."));
        }

        device.Backend.Dropout(x, y, p, seed, stream);
    }

    /// <summary>
    /// One torch.optim.Adam step in place. <paramref name="step"/> counts from 1. <paramref name="vMax"/>, the running
    /// maximum of <paramref name="v"/>, is read and written only with <paramref name="amsgrad"/>; it must still be as long
    /// as the parameters (the parameters themselves may stand in for it without).
    /// </summary>
    internal static void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, Tensor vMax, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step)
    {
        var device = SameDevice(nameof(AdamStep), parameters, gradients, m, v, vMax);
        SameLength(nameof(AdamStep), parameters, gradients);
        SameLength(nameof(AdamStep), parameters, m);
        SameLength(nameof(AdamStep), parameters, v);
        SameLength(nameof(AdamStep), parameters, vMax);
        ArgumentChecks.ThrowIfLessThan(step, 1);
        device.Backend.AdamStep(parameters, gradients, m, v, vMax, learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, step);
    }

    /// <summary>Σ x², waiting for the result.</summary>
    public static double SumOfSquares(Tensor x)
    {
        var device = SameDevice(nameof(SumOfSquares), x);
        return device.Backend.SumOfSquares(x);
    }

    /// <summary>
    /// The fused elementwise loss of prediction x against target y (<see cref="IKernelBackend.ElementwiseLoss"/>):
    /// gradient = gradScale·dℓ/dx, and returns Σ ℓ in double, waiting for it. posWeight (BCE with logits only) is null
    /// or one weight per column of rows of its length.
    /// </summary>
    internal static double ElementwiseLoss(ElementwiseLossKind loss, float parameter, Tensor x, Tensor y, Tensor? posWeight, Tensor gradient, float gradScale)
    {
        var device = posWeight is null ? SameDevice(nameof(ElementwiseLoss), x, y, gradient) : SameDevice(nameof(ElementwiseLoss), x, y, gradient, posWeight);
        SameLength(nameof(ElementwiseLoss), x, y);
        SameLength(nameof(ElementwiseLoss), x, gradient);
        if (posWeight is not null && (loss != ElementwiseLossKind.BceWithLogits || posWeight.Length == 0 || x.Length % posWeight.Length != 0))
        {
            throw new ArgumentException($"{nameof(ElementwiseLoss)}: a positive weight {posWeight.ShapeText} is for {ElementwiseLossKind.BceWithLogits} only, one weight per column of x {x.ShapeText}.", nameof(posWeight));
        }

        return device.Backend.ElementwiseLoss(loss, parameter, x, y, posWeight, gradient, gradScale);
    }

    /// <summary>x *= alpha.</summary>
    public static void Scale(Tensor x, float alpha)
    {
        var device = SameDevice(nameof(Scale), x);
        device.Backend.Scale(x, alpha);
    }

    /// <summary>y = a + alpha·b elementwise (torch.add(a, b, alpha=alpha)). y may be a or b.</summary>
    public static void Add(Tensor a, Tensor b, Tensor y, float alpha = 1f)
    {
        var device = SameDevice(nameof(Add), a, b, y);
        SameLength(nameof(Add), a, b);
        SameLength(nameof(Add), a, y);
        device.Backend.Add(a, b, y, alpha);
    }

    /// <summary>y = a·b elementwise. y may be a or b.</summary>
    public static void Multiply(Tensor a, Tensor b, Tensor y)
    {
        var device = SameDevice(nameof(Multiply), a, b, y);
        SameLength(nameof(Multiply), a, b);
        SameLength(nameof(Multiply), a, y);
        device.Backend.Multiply(a, b, y);
    }

    /// <summary>y = alpha·x. y may be x.</summary>
    public static void Scale(Tensor x, Tensor y, float alpha)
    {
        var device = SameDevice(nameof(Scale), x, y);
        SameLength(nameof(Scale), x, y);
        device.Backend.Copy(x, y);
        device.Backend.Scale(y, alpha);
    }

    /// <summary>x[r, j] *= scale[r]: each row of x scaled by its own factor.</summary>
    public static void ScaleRows(Tensor x, Tensor scale)
    {
        var device = SameDevice(nameof(ScaleRows), x, scale);
        if (scale.Length != x.Rows)
        {
            throw new ArgumentException($"ScaleRows shape mismatch: x {x.ShapeText} has {x.Rows} rows but scale is {scale.ShapeText}.");
        }

        device.Backend.ScaleRows(x, scale);
    }

    /// <summary>
    /// output[i] = source[positions[i]] over the elements of index tensors of any shape: token ids reordered, as a
    /// batch-first <see cref="Nn.RnnBase"/> puts its ids in time-major order. output has one element per position.
    /// </summary>
    /// <exception cref="ArgumentException">output does not have one element per position, or is one of the inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A position is outside [0, source.Length); on every device, before anything is written.</exception>
    internal static void GatherIndices(IndexTensor source, IndexTensor positions, IndexTensor output)
    {
        var device = source.Device;
        SameDevice(nameof(GatherIndices), device, source);
        SameDevice(nameof(GatherIndices), device, positions);
        SameDevice(nameof(GatherIndices), device, output);
        device.ThrowIfDisposed();
        if (output.Length != positions.Length || ReferenceEquals(output.Storage, source.Storage) || ReferenceEquals(output.Storage, positions.Storage))
        {
            throw new ArgumentException($"GatherIndices: output {output.ShapeText} must hold one element per position ({positions.ShapeText}) in a buffer of its own.");
        }

        if (source.Length > int.MaxValue)
        {
            throw new ArgumentException($"GatherIndices: the source {source.ShapeText} has more elements than an int position reaches.");
        }

        positions.ThrowIfAnyColumnOutside((int)source.Length);
        device.Backend.GatherIndices(source, positions, output);

        // The output's values are some of the source's, so the source's bound holds for them.
        var (min, max) = source.Bound;
        output.RecordWritten(min, max);
    }

    /// <summary>result[r] = the column of row r's largest value (the first, on ties), as torch.argmax(x, dim=1).</summary>
    public static void ArgmaxRows(Tensor x, IndexTensor result)
    {
        var device = SameDevice(nameof(ArgmaxRows), x);
        SameDevice(nameof(ArgmaxRows), device, result);
        if (result.Length != x.Rows || (x.Columns == 0 && x.Rows > 0))
        {
            throw new ArgumentException($"ArgmaxRows shape mismatch: x {x.ShapeText} needs a result of {x.Rows} indices and at least one column; result is {result.ShapeText}.");
        }

        device.Backend.ArgmaxRows(x, result);
        result.RecordWritten(0, Math.Max(0, x.Columns - 1));
    }

    /// <summary>
    /// output[i, :] = table[indices[i], :]: nn.Embedding's lookup, for table [Rows, Columns], indices [N], output [N, Columns].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, Rows); on every device, before anything is written.</exception>
    public static void GatherRows(Tensor table, IndexTensor indices, Tensor output)
    {
        var device = SameDevice(nameof(GatherRows), table, output);
        SameDevice(nameof(GatherRows), device, indices);
        if (output.Rows != indices.Length || output.Columns != table.Columns)
        {
            throw new ArgumentException($"GatherRows shape mismatch: table {table.ShapeText}, indices {indices.ShapeText}, output {output.ShapeText}; need output [{indices.Length}, {table.Columns}].");
        }

        indices.ThrowIfAnyColumnOutside(table.Rows);
        device.Backend.GatherRows(table, indices, output);
    }

    /// <summary>The backward of <see cref="GatherRows"/>, accumulating: gradTable[indices[i], :] += gradOutput[i, :].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, Rows); on every device, before anything is written.</exception>
    public static void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable) => ScatterAddRows(gradOutput, indices, gradTable, skipRow: -1);

    /// <summary>
    /// <see cref="ScatterAddRows(Tensor, IndexTensor, Tensor)"/> but for the i with indices[i] = <paramref name="skipRow"/>,
    /// which add nothing, so that row of gradTable keeps its values (nn.Embedding's padding_idx); −1 skips none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, Rows), or skipRow is neither −1 nor a row; before anything is written.</exception>
    internal static void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable, int skipRow)
    {
        var device = SameDevice(nameof(ScatterAddRows), gradOutput, gradTable);
        SameDevice(nameof(ScatterAddRows), device, indices);
        if (gradOutput.Rows != indices.Length || gradOutput.Columns != gradTable.Columns)
        {
            throw new ArgumentException($"ScatterAddRows shape mismatch: gradOutput {gradOutput.ShapeText}, indices {indices.ShapeText}, gradTable {gradTable.ShapeText}.");
        }

        if (skipRow < -1 || skipRow >= gradTable.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(skipRow), $"ScatterAddRows: the row to skip, {skipRow}, is neither -1 (none) nor a row of the table [0, {gradTable.Rows}).");
        }

        indices.ThrowIfAnyColumnOutside(gradTable.Rows);
        device.Backend.ScatterAddRows(gradOutput, indices, gradTable, skipRow);
    }

    /// <summary>
    /// columns = the unfold (im2col) of x [N, C, L] for a 1-d convolution with kernel size k (torch.nn.functional.unfold
    /// of one spatial dimension, laid out by rows), with <paramref name="paddingLeft"/> zeros before x and
    /// <paramref name="paddingRight"/> after it: columns is [N·L_out, C·k], row n·L_out + t, column c·k + j holding
    /// x[n, c, t·stride − left + j·dilation], 0 where that position is padding; L_out = ⌊(L + left + right −
    /// dilation·(k − 1) − 1)/stride⌋ + 1. With k = 1, stride 1, no padding, dilation 1 it transposes each [C, L] to [L, C].
    /// </summary>
    /// <exception cref="ArgumentException">x is not [N, C, L], the kernel does not fit (L_out &lt; 1), columns is not [N·L_out, C·k], or columns shares x's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k, stride or dilation is below 1, or a padding below 0.</exception>
    internal static void Unfold1d(Tensor x, Tensor columns, int kernelSize, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        var device = SameDevice(nameof(Unfold1d), x, columns);
        var geometry = CheckUnfold1d(nameof(Unfold1d), x, columns, kernelSize, stride, paddingLeft, paddingRight, dilation);
        device.Backend.Unfold1d(x, columns, geometry);
    }

    /// <summary>
    /// x [N, C, L] = the fold (col2im) of columns [N·L_out, C·k], the adjoint of <see cref="Unfold1d"/> (the input
    /// gradient of a convolution from the gradient of its unfolded input): each element of x is written with the sum of
    /// the columns' elements that <see cref="Unfold1d"/> reads from it, 0 where none does.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Unfold1d"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Unfold1d"/>.</exception>
    internal static void Fold1d(Tensor columns, Tensor x, int kernelSize, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        var device = SameDevice(nameof(Fold1d), columns, x);
        var geometry = CheckUnfold1d(nameof(Fold1d), x, columns, kernelSize, stride, paddingLeft, paddingRight, dilation);
        device.Backend.Fold1d(columns, x, geometry);
    }

    /// <summary>
    /// columns = the unfold (im2col) of x [N, C, H, W] for a 2-d convolution over <paramref name="window"/>
    /// (torch.nn.functional.unfold, laid out by rows): columns is [N·H_out·W_out, C·kH·kW], row (n·H_out + s)·W_out + t,
    /// column (c·kH + i)·kW + j holding x[n, c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], 0 where
    /// that position is padding; H_out and W_out as <see cref="Unfold1d"/>'s L_out on each axis.
    /// </summary>
    /// <exception cref="ArgumentException">x is not [N, C, H, W], the kernel does not fit (H_out or W_out &lt; 1), columns is not [N·H_out·W_out, C·kH·kW], or columns shares x's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A kernel size, stride or dilation is below 1, or a padding below 0.</exception>
    internal static void Unfold2d(Tensor x, Tensor columns, Conv2dWindow window)
    {
        var device = SameDevice(nameof(Unfold2d), x, columns);
        var geometry = CheckUnfold2d(nameof(Unfold2d), x, columns, window);
        device.Backend.Unfold2d(x, columns, geometry);
    }

    /// <summary>
    /// x [N, C, H, W] = the fold (col2im) of columns [N·H_out·W_out, C·kH·kW], the adjoint of <see cref="Unfold2d"/> (the
    /// input gradient of a 2-d convolution from the gradient of its unfolded input): each element of x is written with
    /// the sum of the columns' elements that <see cref="Unfold2d"/> reads from it, 0 where none does.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Unfold2d"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Unfold2d"/>.</exception>
    internal static void Fold2d(Tensor columns, Tensor x, Conv2dWindow window)
    {
        var device = SameDevice(nameof(Fold2d), columns, x);
        var geometry = CheckUnfold2d(nameof(Fold2d), x, columns, window);
        device.Backend.Fold2d(columns, x, geometry);
    }

    /// <summary>
    /// y [N, C·m, L_out] = the depthwise 1-d convolution of x [N, C, L] (nn.Conv1d with groups = C) by weight [C·m, 1, k],
    /// plus bias [C·m] when given: y[n, o, t] = bias[o] + Σ_i weight[o, 0, i]·x[n, ⌊o/m⌋, t·stride − left + i·dilation],
    /// the taps outside x being zero padding (<paramref name="paddingLeft"/> positions before x and
    /// <paramref name="paddingRight"/> after it), L_out = ⌊(L + left + right − dilation·(k − 1) − 1)/stride⌋ + 1, 0 when
    /// the kernel does not fit. No unfolded copy of x is made.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not match (x [N, C, L], weight [C·m, 1, k], bias [C·m], y [N, C·m, L_out]), or y shares an input's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stride or dilation is below 1, or a padding below 0.</exception>
    internal static void DepthwiseConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor y, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        var device = bias is null ? SameDevice(nameof(DepthwiseConv1d), x, weight, y) : SameDevice(nameof(DepthwiseConv1d), x, weight, bias, y);
        var geometry = CheckDepthwiseConv1d(nameof(DepthwiseConv1d), x, weight, bias, y, stride, paddingLeft, paddingRight, dilation);
        SeparateBuffers(nameof(DepthwiseConv1d), y, x, weight, bias);
        device.Backend.DepthwiseConv1d(x, weight, bias, y, geometry);
    }

    /// <summary>
    /// dx [N, C, L], the input gradient of <see cref="DepthwiseConv1d"/> from dy [N, C·m, L_out]: each element written
    /// with the sum of weight·dy over the taps that read it (0 where none does), each sum in a fixed order, without
    /// atomics, so the floats are the same from run to run.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="DepthwiseConv1d"/>, dx in x's place and dy in y's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="DepthwiseConv1d"/>.</exception>
    internal static void DepthwiseConv1dBackwardInput(Tensor dy, Tensor weight, Tensor dx, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        var device = SameDevice(nameof(DepthwiseConv1dBackwardInput), dy, weight, dx);
        var geometry = CheckDepthwiseConv1d(nameof(DepthwiseConv1dBackwardInput), dx, weight, null, dy, stride, paddingLeft, paddingRight, dilation);
        SeparateBuffers(nameof(DepthwiseConv1dBackwardInput), dx, dy, weight, null);
        device.Backend.DepthwiseConv1dBackwardInput(dy, weight, dx, geometry);
    }

    /// <summary>
    /// The parameter gradients of <see cref="DepthwiseConv1d"/>, accumulated: weightGradient [C·m, 1, k] += Σ over n and
    /// t of dy·x at each tap, and biasGradient [C·m] (when given) += Σ over n and t of dy; each sum in a fixed order,
    /// without atomics.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="DepthwiseConv1d"/>, the gradients in the weight's and the bias's places and dy in y's, or a gradient shares an input's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="DepthwiseConv1d"/>.</exception>
    internal static void DepthwiseConv1dBackwardWeight(Tensor x, Tensor dy, Tensor weightGradient, Tensor? biasGradient, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        const string op = nameof(DepthwiseConv1dBackwardWeight);
        var device = biasGradient is null ? SameDevice(op, x, dy, weightGradient) : SameDevice(op, x, dy, weightGradient, biasGradient);
        var geometry = CheckDepthwiseConv1d(op, x, weightGradient, biasGradient, dy, stride, paddingLeft, paddingRight, dilation);
        // The two gradients may be views of one buffer (a model's flat gradient), as long as neither is an input's.
        SeparateBuffers(op, weightGradient, x, dy, null);
        if (biasGradient is not null)
        {
            SeparateBuffers(op, biasGradient, x, dy, null);
        }

        device.Backend.DepthwiseConv1dBackwardWeight(x, dy, weightGradient, biasGradient, geometry);
    }

    /// <summary>
    /// output [Rows, P] = input [Rows, L] gathered through one map [P] for every row: output[r, p] = input[r, map[p]], as
    /// torch.index_select(input, 1, map); a <see cref="Nn.Conv1d"/> pads by a <see cref="Nn.PaddingMode"/> this way.
    /// </summary>
    /// <exception cref="ArgumentException">input or output is not a matrix, output is not [Rows, P], or output shares input's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A map value is outside [0, L); on every device, before anything is written.</exception>
    internal static void GatherPositions(Tensor input, IndexTensor map, Tensor output)
    {
        var device = SameDevice(nameof(GatherPositions), input, output);
        SameDevice(nameof(GatherPositions), device, map);
        if (input.Rank != 2 || output.Rank != 2 || output.Rows != input.Rows || output.Columns != map.Length)
        {
            throw new ArgumentException($"GatherPositions shape mismatch: input {input.ShapeText}, map {map.ShapeText}, output {output.ShapeText}; need input [Rows, L] and output [Rows, {map.Length}].", nameof(output));
        }

        if (ReferenceEquals(input.Storage, output.Storage))
        {
            throw new ArgumentException($"GatherPositions: input {input.ShapeText} and output {output.ShapeText} must be separate buffers.", nameof(output));
        }

        map.ThrowIfAnyColumnOutside(input.Columns);
        device.Backend.GatherPositions(input, map, output);
    }

    /// <summary>
    /// gradInput [Rows, L], the backward of <see cref="GatherPositions"/> from gradOutput [Rows, P] through the map's
    /// inverse (starts [L + 1] and copies [P], as <see cref="PositionGatherInverse.Build"/> writes them):
    /// gradInput[r, l] = the sum of gradOutput[r, p] over the positions p that copy l, in increasing order of p, 0 for
    /// none. Each element sums its own terms, with no atomics: the same floats on every device and every run.
    /// </summary>
    /// <exception cref="ArgumentException">gradOutput or gradInput is not a matrix, the shapes do not match, or gradInput shares gradOutput's buffer.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A start is outside [0, P] or a copy outside [0, P); on every device, before anything is written.</exception>
    internal static void GatherPositionsBackward(Tensor gradOutput, IndexTensor starts, IndexTensor copies, Tensor gradInput)
    {
        var device = SameDevice(nameof(GatherPositionsBackward), gradOutput, gradInput);
        SameDevice(nameof(GatherPositionsBackward), device, starts);
        SameDevice(nameof(GatherPositionsBackward), device, copies);
        if (gradOutput.Rank != 2 || gradInput.Rank != 2 || gradInput.Rows != gradOutput.Rows || copies.Length != gradOutput.Columns || starts.Length != (long)gradInput.Columns + 1)
        {
            throw new ArgumentException(
                $"GatherPositionsBackward shape mismatch: gradOutput {gradOutput.ShapeText}, starts {starts.ShapeText}, copies {copies.ShapeText}, gradInput {gradInput.ShapeText}; need gradOutput [Rows, P], copies [P], gradInput [Rows, L] and starts [L + 1].", nameof(gradInput));
        }

        if (ReferenceEquals(gradOutput.Storage, gradInput.Storage))
        {
            throw new ArgumentException($"GatherPositionsBackward: gradOutput {gradOutput.ShapeText} and gradInput {gradInput.ShapeText} must be separate buffers.", nameof(gradInput));
        }

        starts.ThrowIfAnyColumnOutside(gradOutput.Columns + 1);
        copies.ThrowIfAnyColumnOutside(gradOutput.Columns);
        device.Backend.GatherPositionsBackward(gradOutput, starts, copies, gradInput);
    }

    /// <summary>
    /// y [N, C, L_out] or [N, C, H_out, W_out] = the maximum of each window of x [N, C, L] or [N, C, H, W]
    /// (<paramref name="windows"/>, over the N·C planes; a 1-d pooling's are of height 1, <see cref="Pool2dGeometry.Of"/>),
    /// and argmax, one per element of y, its position h·W + w in the plane: the first maximum in row-major order, or the
    /// last NaN where the window holds one (NaN propagates, as in PyTorch on the CPU); a padded tap is never the maximum.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes are not those of <paramref name="windows"/>, or y shares x's buffer.</exception>
    internal static void MaxPool(Tensor x, Tensor y, IndexTensor argmax, Pool2dGeometry windows)
    {
        var device = SameDevice(nameof(MaxPool), x, y);
        SameDevice(nameof(MaxPool), device, argmax);
        CheckPool(nameof(MaxPool), x, y, argmax, windows);
        device.Backend.MaxPool(x, y, argmax, windows);
        argmax.RecordWritten(-1, Math.Max(0, windows.InputSize - 1)); // −1: a window with no tap inside x
    }

    /// <summary>dx, shaped as x = the gradient of <see cref="MaxPool"/>: each element the sum of dy, shaped as y, over the outputs whose argmax is its position.</summary>
    /// <exception cref="ArgumentException">As <see cref="MaxPool"/>, dx in x's place and dy in y's.</exception>
    internal static void MaxPoolBackward(Tensor dy, IndexTensor argmax, Tensor dx, Pool2dGeometry windows)
    {
        var device = SameDevice(nameof(MaxPoolBackward), dy, dx);
        SameDevice(nameof(MaxPoolBackward), device, argmax);
        CheckPool(nameof(MaxPoolBackward), dx, dy, argmax, windows);
        device.Backend.MaxPoolBackward(dy, argmax, dx, windows);
    }

    /// <summary>
    /// y = the mean of each window of x (<paramref name="windows"/>, shaped as in <see cref="MaxPool"/>): the sum of its
    /// taps inside x over the product of the axes' divisors (<see cref="Pool2dGeometry.Divisor"/>).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="MaxPool"/>.</exception>
    internal static void AvgPool(Tensor x, Tensor y, Pool2dGeometry windows)
    {
        var device = SameDevice(nameof(AvgPool), x, y);
        CheckPool(nameof(AvgPool), x, y, null, windows);
        device.Backend.AvgPool(x, y, windows);
    }

    /// <summary>dx, shaped as x = the gradient of <see cref="AvgPool"/>: each element the sum of dy over the divisor of every window it is a tap of.</summary>
    /// <exception cref="ArgumentException">As <see cref="MaxPool"/>, dx in x's place and dy in y's.</exception>
    internal static void AvgPoolBackward(Tensor dy, Tensor dx, Pool2dGeometry windows)
    {
        var device = SameDevice(nameof(AvgPoolBackward), dy, dx);
        CheckPool(nameof(AvgPoolBackward), dx, dy, null, windows);
        device.Backend.AvgPoolBackward(dy, dx, windows);
    }

    /// <summary>
    /// One torch.optim.SGD step in place. <paramref name="momentumBuffer"/> is read and written only when momentum is
    /// not 0; on the first step (<paramref name="firstStep"/>) it is set to the gradient, as torch does.
    /// </summary>
    internal static void SgdStep(Tensor parameters, Tensor gradients, Tensor momentumBuffer, float learningRate, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        var device = SameDevice(nameof(SgdStep), parameters, gradients, momentumBuffer);
        SameLength(nameof(SgdStep), parameters, gradients);
        SameLength(nameof(SgdStep), parameters, momentumBuffer);
        device.Backend.SgdStep(parameters, gradients, momentumBuffer, new SgdCoefficients(learningRate, momentum, 1f - dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0));
    }

    /// <summary>
    /// One torch.optim.RMSprop step in place. <paramref name="momentumBuffer"/> is read and written only when momentum is
    /// not 0, and <paramref name="gradientAverage"/> only when <paramref name="centered"/>; each must still be as long as
    /// the parameters (the parameters themselves may stand in for one not used).
    /// </summary>
    internal static void RMSpropStep(Tensor parameters, Tensor gradients, Tensor squareAverage, Tensor momentumBuffer, Tensor gradientAverage, float learningRate, float alpha, float epsilon, float weightDecay, float momentum, bool centered)
    {
        var device = SameDevice(nameof(RMSpropStep), parameters, gradients, squareAverage, momentumBuffer, gradientAverage);
        SameLength(nameof(RMSpropStep), parameters, gradients);
        SameLength(nameof(RMSpropStep), parameters, squareAverage);
        SameLength(nameof(RMSpropStep), parameters, momentumBuffer);
        SameLength(nameof(RMSpropStep), parameters, gradientAverage);
        device.Backend.RMSpropStep(parameters, gradients, squareAverage, momentumBuffer, gradientAverage, RMSpropCoefficients.For(learningRate, alpha, epsilon, weightDecay, momentum, centered));
    }

    /// <summary>probabilities = softmax(logits / temperature), per row.</summary>
    public static void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
    {
        var device = SameDevice(nameof(SoftmaxWithTemperature), logits, probabilities);
        if (logits.Rows != probabilities.Rows || logits.Columns != probabilities.Columns)
        {
            throw new ArgumentException($"SoftmaxWithTemperature shape mismatch: logits {logits.ShapeText}, probabilities {probabilities.ShapeText}.");
        }

        if (!(temperature > 0f) || float.IsInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), string.Create(CultureInfo.InvariantCulture, $"Temperature must be a positive finite number; got {temperature}."));
        }

        device.Backend.SoftmaxWithTemperature(logits, probabilities, temperature);
    }

    private static void CheckCellShapes(string op, Tensor wide, Tensor wide2, params ReadOnlySpan<Tensor> narrow)
        => CheckGateShapes(op, 4, [wide, wide2], narrow);

    /// <summary>Every wide tensor [B, gateCount·H], B and H those of the first; every narrow tensor [B, H].</summary>
    private static void CheckGateShapes(string op, int gateCount, ReadOnlySpan<Tensor> wide, ReadOnlySpan<Tensor> narrow)
    {
        int batch = wide[0].Rows;
        int columns = wide[0].Columns;
        foreach (var t in wide)
        {
            if (columns % gateCount != 0 || t.Rows != batch || t.Columns != columns)
            {
                throw new ArgumentException($"{op} shape mismatch: gate tensors {wide[0].ShapeText} and {t.ShapeText} must both be [B, {gateCount}H].");
            }
        }

        foreach (var t in narrow)
        {
            if (t.Rows != batch || t.Columns != columns / gateCount)
            {
                throw new ArgumentException($"{op} shape mismatch: state tensor {t.ShapeText} must be [{batch}, {columns / gateCount}] for gates {wide[0].ShapeText}.");
            }
        }
    }

    /// <summary>gates [T·B, 4H] and weightHh [4H, H]; every sequence tensor [T·B, H]; every state tensor [B, H].</summary>
    private static void CheckRecurrenceShapes(string op, Tensor gates, Tensor weightHh, int steps, int batch, ReadOnlySpan<Tensor> sequences, ReadOnlySpan<Tensor> states)
        => CheckRecurrenceShapes(op, 4, [gates], weightHh, steps, batch, sequences, states);

    /// <summary>Every gate tensor [T·B, gateCount·H] and weightHh [gateCount·H, H]; every sequence tensor [T·B, H]; every state tensor [B, H].</summary>
    private static void CheckRecurrenceShapes(
        string op, int gateCount, ReadOnlySpan<Tensor> gateTensors, Tensor weightHh, int steps, int batch, ReadOnlySpan<Tensor> sequences, ReadOnlySpan<Tensor> states)
    {
        int h = weightHh.Columns;
        var gates = gateTensors[0];
        foreach (var g in gateTensors)
        {
            if (steps <= 0 || batch <= 0 || g.Rows != steps * batch || g.Columns != gateCount * h || weightHh.Rows != gateCount * h)
            {
                throw new ArgumentException($"{op} shape mismatch: gates {g.ShapeText} must be [T·B, {gateCount}H] = [{steps}·{batch}, {gateCount}·{h}] for weight_hh {weightHh.ShapeText}.");
            }
        }

        foreach (var t in sequences)
        {
            if (t.Rows != gates.Rows || t.Columns != h)
            {
                throw new ArgumentException($"{op} shape mismatch: {t.ShapeText} must be [{gates.Rows}, {h}].");
            }
        }

        foreach (var t in states)
        {
            if (t.Rows != batch || t.Columns != h)
            {
                throw new ArgumentException($"{op} shape mismatch: state {t.ShapeText} must be [{batch}, {h}].");
            }
        }
    }

    /// <summary>x and <paramref name="rowsLike"/> [N, D] with D ≥ 1, mean and rstd N long, each row vector present on x's device and D long.</summary>
    private static void CheckLayerNormShapes(string op, Tensor x, Tensor rowsLike, Tensor mean, Tensor rstd, params ReadOnlySpan<Tensor?> rowVectors)
    {
        if ((x.Columns == 0 && x.Rows > 0) || rowsLike.Rows != x.Rows || rowsLike.Columns != x.Columns || mean.Length != x.Rows || rstd.Length != x.Rows)
        {
            throw new ArgumentException($"{op} shape mismatch: x {x.ShapeText} and {rowsLike.ShapeText} must both be [N, D] with D ≥ 1, and mean {mean.ShapeText} and rstd {rstd.ShapeText} hold N = {x.Rows} values.");
        }

        foreach (var t in rowVectors)
        {
            if (t is null)
            {
                continue;
            }

            SameDevice(op, x, t);
            if (t.Length != x.Columns)
            {
                throw new ArgumentException($"{op} shape mismatch: {t.ShapeText} must hold D = {x.Columns} values for x {x.ShapeText}.");
            }
        }
    }

    /// <summary>x and <paramref name="like"/> both [N, C] or both [N, C, L], mean and variance C long, each channel vector present on x's device and C long.</summary>
    private static void CheckBatchNormShapes(string op, Tensor x, Tensor like, Tensor mean, Tensor variance, params ReadOnlySpan<Tensor?> channelVectors)
    {
        if (x.Rank is not (2 or 3) || (x.Rank == 3 && x.Shape[2] == 0) || !x.Shape.SequenceEqual(like.Shape) || mean.Length != x.Shape[1] || variance.Length != x.Shape[1])
        {
            throw new ArgumentException(
                $"{op} shape mismatch: x {x.ShapeText} and {like.ShapeText} must both be [N, C] or [N, C, L] with L ≥ 1, and mean {mean.ShapeText} and variance {variance.ShapeText} hold C values.");
        }

        foreach (var t in channelVectors)
        {
            if (t is null)
            {
                continue;
            }

            SameDevice(op, x, t);
            if (t.Length != x.Shape[1])
            {
                throw new ArgumentException($"{op} shape mismatch: {t.ShapeText} must hold C = {x.Shape[1]} values for x {x.ShapeText}.");
            }
        }
    }

    // x [N, C, L] and y [N, C, L_out] (windows of height 1), or x [N, C, H, W] and y [N, C, H_out, W_out], and argmax
    // one index per element of y, as the windows say, the windows' sizes as PyTorch takes them, and y not x's buffer.
    private static void CheckPool(string op, Tensor x, Tensor y, IndexTensor? argmax, Pool2dGeometry g)
    {
        if (!g.IsPooling)
        {
            throw new ArgumentException($"{op}: {g} are not the windows of a pooling.", nameof(g));
        }

        Pool1dGeometry alongH = g.Height, alongW = g.Width;
        bool rows = x.Rank == 3 && alongH.Length == 1 && alongH.OutputLength == 1;
        if (!(rows || x.Rank == 4) || y.Rank != x.Rank || (long)x.Shape[0] * x.Shape[1] != g.Planes || x.Shape[^1] != alongW.Length
            || y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[1] || y.Shape[^1] != alongW.OutputLength
            || (!rows && (x.Shape[2] != alongH.Length || y.Shape[2] != alongH.OutputLength)) || (argmax is not null && argmax.Length != y.Length))
        {
            string input = rows ? $"{alongW.Length}" : $"{alongH.Length}, {alongW.Length}";
            string output = rows ? $"{alongW.OutputLength}" : $"{alongH.OutputLength}, {alongW.OutputLength}";
            throw new ArgumentException(
                $"{op} shape mismatch: {g} pool [N, C, {input}] into [N, C, {output}] with N·C = {g.Planes}; got {x.ShapeText} and {y.ShapeText}{(argmax is null ? "" : $" with argmax {argmax.ShapeText}")}.", nameof(y));
        }

        if (ReferenceEquals(x.Storage, y.Storage))
        {
            throw new ArgumentException($"{op}: {x.ShapeText} and {y.ShapeText} must be separate buffers.", nameof(y));
        }
    }

    // x [N, C, L], weight [C·m, 1, k], bias [C·m] (when given) and y [N, C·m, L_out] for these sizes, m at least 1.
    private static DepthwiseConv1dGeometry CheckDepthwiseConv1d(string op, Tensor x, Tensor weight, Tensor? bias, Tensor y, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        Conv1dGeometry.CheckSizes(Math.Max(1, weight.Rank == 3 ? weight.Shape[2] : 1), stride, Math.Min(paddingLeft, paddingRight), dilation);
        bool shapes = x.Rank == 3 && weight.Rank == 3 && y.Rank == 3 && weight.Shape[1] == 1 && weight.Shape[2] >= 1
            && x.Shape[1] >= 1 && weight.Shape[0] >= x.Shape[1] && weight.Shape[0] % x.Shape[1] == 0
            && y.Shape[0] == x.Shape[0] && y.Shape[1] == weight.Shape[0] && (bias is null || (bias.Rank == 1 && bias.Length == weight.Shape[0]))
            && y.Shape[2] == Conv1dGeometry.OutputLengthOf(x.Shape[2], weight.Shape[2], stride, paddingLeft, paddingRight, dilation);
        if (!shapes)
        {
            throw new ArgumentException(
                $"{op} shape mismatch: x {x.ShapeText}, weight {weight.ShapeText}{(bias is null ? string.Empty : $", bias {bias.ShapeText}")}, y {y.ShapeText} with stride {stride}, padding {paddingLeft} and {paddingRight}, dilation {dilation}; need x [N, C, L], weight [C·m, 1, k], bias [C·m] and y [N, C·m, L_out].", nameof(y));
        }

        var input = new Conv1dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], weight.Shape[2], stride, paddingLeft, paddingRight, dilation);
        return new DepthwiseConv1dGeometry(input, weight.Shape[0] / x.Shape[1]);
    }

    // The tensor an op writes shares none of the others' buffers.
    private static void SeparateBuffers(string op, Tensor written, Tensor a, Tensor b, Tensor? c)
    {
        foreach (var read in (ReadOnlySpan<Tensor?>)[a, b, c])
        {
            if (read is not null && ReferenceEquals(written.Storage, read.Storage))
            {
                throw new ArgumentException($"{op}: {written.ShapeText} must not share the buffer of {read.ShapeText}.", nameof(written));
            }
        }
    }

    /// <summary>The geometry of an unfold of x [N, C, L] into columns [N·L_out, C·k], after checking both shapes, the sizes and that the two buffers differ.</summary>
    private static Conv1dGeometry CheckUnfold1d(string op, Tensor x, Tensor columns, int kernelSize, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        Conv1dGeometry.CheckSizes(kernelSize, stride, Math.Min(paddingLeft, paddingRight), dilation);
        if (x.Rank != 3)
        {
            throw new ArgumentException($"{op} takes x [N, C, L]; got {x.ShapeText}.", nameof(x));
        }

        long outLength = Conv1dGeometry.OutputLengthOf(x.Shape[2], kernelSize, stride, paddingLeft, paddingRight, dilation);
        if (outLength < 1)
        {
            throw new ArgumentException($"{op}: a kernel of {kernelSize} at dilation {dilation} spans {((long)dilation * (kernelSize - 1)) + 1} positions, more than x {x.ShapeText} has with padding {paddingLeft} before it and {paddingRight} after it.", nameof(x));
        }

        // In long: with a huge padding, N·L_out and C·k need not fit in an int, and then no columns tensor matches.
        long rows = x.Shape[0] * Math.Min(outLength, (long)int.MaxValue + 1), width = (long)x.Shape[1] * kernelSize;
        if (columns.Rank != 2 || columns.Rows != rows || columns.Columns != width)
        {
            throw new ArgumentException($"{op} shape mismatch: columns {columns.ShapeText} must be [N·L_out, C·k] = [{(outLength <= int.MaxValue ? $"{rows}" : $"{x.Shape[0]}·{outLength}")}, {width}] for x {x.ShapeText}.", nameof(columns));
        }

        if (ReferenceEquals(x.Storage, columns.Storage))
        {
            throw new ArgumentException($"{op}: x {x.ShapeText} and columns {columns.ShapeText} must be separate buffers.", nameof(columns));
        }

        return new Conv1dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], kernelSize, stride, paddingLeft, paddingRight, dilation);
    }

    /// <summary>The geometry of an unfold of x [N, C, H, W] into columns [N·H_out·W_out, C·kH·kW], after checking both shapes, the sizes and that the two buffers differ.</summary>
    private static Conv2dGeometry CheckUnfold2d(string op, Tensor x, Tensor columns, Conv2dWindow window)
    {
        window.CheckSizes();
        if (x.Rank != 4)
        {
            throw new ArgumentException($"{op} takes x [N, C, H, W]; got {x.ShapeText}.", nameof(x));
        }

        long outHeight = window.OutputHeightOf(x.Shape[2]), outWidth = window.OutputWidthOf(x.Shape[3]);
        if (outHeight < 1 || outWidth < 1)
        {
            throw new ArgumentException($"{op}: a kernel of {window.KernelHeight}×{window.KernelWidth} at dilation ({window.DilationHeight}, {window.DilationWidth}) spans {((long)window.DilationHeight * (window.KernelHeight - 1)) + 1}×{((long)window.DilationWidth * (window.KernelWidth - 1)) + 1} positions, more than x {x.ShapeText} has with padding ({window.PaddingTop}, {window.PaddingBottom}, {window.PaddingLeft}, {window.PaddingRight}) (top, bottom, left, right).", nameof(x));
        }

        // In Int128: with huge paddings, N·H_out·W_out and C·kH·kW need not fit in a long, and then no columns tensor matches.
        Int128 rows = (Int128)x.Shape[0] * outHeight * outWidth, width = (long)x.Shape[1] * window.KernelHeight * window.KernelWidth;
        if (columns.Rank != 2 || columns.Rows != rows || columns.Columns != width)
        {
            throw new ArgumentException($"{op} shape mismatch: columns {columns.ShapeText} must be [N·H_out·W_out, C·kH·kW] = [{rows}, {width}] for x {x.ShapeText}.", nameof(columns));
        }

        if (ReferenceEquals(x.Storage, columns.Storage))
        {
            throw new ArgumentException($"{op}: x {x.ShapeText} and columns {columns.ShapeText} must be separate buffers.", nameof(columns));
        }

        return new Conv2dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], window);
    }

    private static void SameLength(string op, Tensor a, Tensor b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"{op} shape mismatch: {a.ShapeText} and {b.ShapeText} must have the same number of elements.");
        }
    }

    // params ReadOnlySpan: the checks run on every kernel call, so they must not allocate.
    // Each bias gradient of a fused recurrence holds one value per gate column.
    /// <summary>The RNN's cell is nn.RNN's: tanh or relu.</summary>
    private static void CheckRnnActivation(string op, Activation activation)
    {
        if (activation is not (Activation.Tanh or Activation.Relu))
        {
            throw new ArgumentException($"{op}: the RNN's activation must be Tanh or Relu; got {activation}.", nameof(activation));
        }
    }

    private static void CheckBiasGradients(string op, int columns, params ReadOnlySpan<Tensor> biasGradients)
    {
        foreach (var t in biasGradients)
        {
            if (t.Length != columns)
            {
                throw new ArgumentException($"{op}: the bias gradient {t.ShapeText} must hold {columns} values, one per gate column.");
            }
        }
    }

    /// <summary>A row loss's arguments, on one device: input [N, C], targets and losses N long, dInput [N, C], every target in [0, C).</summary>
    private static Device CheckRowLoss(string op, Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, int? ignoreIndex)
    {
        var device = SameDevice(op, input, losses, dInput);
        SameDevice(op, device, targets);
        if (targets.Length != input.Rows || losses.Length != input.Rows || dInput.Rows != input.Rows || dInput.Columns != input.Columns)
        {
            throw new ArgumentException($"{op} shape mismatch: input {input.ShapeText}, targets {targets.ShapeText}, losses {losses.ShapeText}, gradient {dInput.ShapeText}.");
        }

        targets.CheckTargets(input.Columns, ignoreIndex);
        return device;
    }

    private static void CheckSameShape(string op, Tensor expected, ReadOnlySpan<Tensor> others)
    {
        foreach (var t in others)
        {
            if (t.Rows != expected.Rows || t.Columns != expected.Columns)
            {
                throw new ArgumentException($"{op} shape mismatch: {t.ShapeText} must be {expected.ShapeText}.");
            }
        }
    }

    private static Device SameDevice(string op, params ReadOnlySpan<Tensor> tensors)
    {
        var device = tensors[0].Device;
        foreach (var t in tensors)
        {
            t.ThrowIfDisposed();
            if (!ReferenceEquals(t.Device, device))
            {
                var described = new List<string>();
                foreach (var x in tensors)
                {
                    described.Add($"{x.ShapeText} on {x.Device.Name}");
                }

                throw new InvalidOperationException($"{op} mixes devices: {string.Join(", ", described)}. Copy tensors to one device first.{SameKind(device, t.Device)}");
            }
        }

        device.ThrowIfDisposed();
        return device;
    }

    private static void SameDevice(string op, Device device, IndexTensor indices)
    {
        indices.ThrowIfDisposed();
        if (!ReferenceEquals(indices.Device, device))
        {
            throw new InvalidOperationException($"{op} mixes devices: indices {indices.ShapeText} are on {indices.Device.Name}, the other tensors on {device.Name}.{SameKind(device, indices.Device)}");
        }
    }

    // Two devices of one name are two Device.Create calls: the message would otherwise read "cpu" against "cpu".
    private static string SameKind(Device a, Device b)
        => a.Name == b.Name ? $" The two {a.Name} devices are separate Device instances (each Device.Create makes one): create one and share it." : string.Empty;
}
