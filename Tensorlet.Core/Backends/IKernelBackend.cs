using Tensorlet.Kernels;

namespace Tensorlet.Backends;

/// <summary>
/// One kernel set (SIMD C# on the CPU, or ILGPU on an accelerator). <see cref="Ops"/> checks
/// devices, shapes and index ranges before it calls in, so an implementation may assume its arguments are
/// valid, live, on its own device, and dense row-major.
/// Kernels are queued: a backend may return before the work is done; <see cref="Synchronize"/> waits.
/// </summary>
internal interface IKernelBackend : IDisposable
{
    /// <summary>A one-line description of the hardware.</summary>
    string Description { get; }

    /// <summary>Allocates a zero-filled buffer of <paramref name="length"/> elements.</summary>
    Storage<T> Allocate<T>(long length)
        where T : unmanaged;

    void Synchronize();

    void Fill(Tensor x, float value);

    void Copy(Tensor source, Tensor destination);

    /// <summary>
    /// C[m,n] = alpha·op(A)·op(B) + beta·C, row-major. op(A) is [m,k]: A is stored [m,k], or [k,m] when
    /// <paramref name="transposeA"/>. op(B) is [k,n]: B is stored [k,n], or [n,k] when <paramref name="transposeB"/>.
    /// When beta is 0, C is not read (NaNs in C do not propagate).
    /// </summary>
    void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta);

    /// <summary>
    /// Two products with one A: C1[m,n1] = alpha·op(A)·B1 + beta·C1 and C2[m,n2] = alpha·op(A)·B2 + beta·C2, with B1
    /// [k,n1] and B2 [k,n2] stored untransposed; each element the same float as <see cref="Gemm"/> gives for its own C.
    /// A backend may read op(A) once for both (the LSTM's dW_ih and dW_hh share d(pre)).
    /// </summary>
    void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, int m, int n1, int n2, int k, float alpha, float beta);

    /// <summary>
    /// output[i, o] = weight[o, indices[i]] + bias[o]: one-hot(indices)·weightᵀ + bias as a lookup, in one pass over the
    /// output. weight [Out, In], output [N, Out], bias Out long or null for none.
    /// </summary>
    void GatherColumns(Tensor weight, IndexTensor indices, Tensor output, Tensor? bias);

    /// <summary>gradWeight[o, indices[i]] += gradOutput[i, o]: the backward of <see cref="GatherColumns"/>, accumulating.</summary>
    void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight);

    /// <summary>x[i, j] = row[j] for every row i.</summary>
    void FillRows(Tensor x, Tensor row);

    /// <summary>x[i, j] += bias[j] for every row i.</summary>
    void AddBias(Tensor x, Tensor bias);

    /// <summary>result[j] = (accumulate ? result[j] : 0) + Σ_i x[i, j]: the bias gradient.</summary>
    void SumColumns(Tensor x, Tensor result, bool accumulate);

    /// <summary>
    /// The fused LSTM cell. preactivations [B,4H] in PyTorch's gate order i,f,g,o; cPrev [B,H].
    /// Writes gates [B,4H] = σ(i), σ(f), tanh(g), σ(o); c = f·cPrev + i·g; h = o·tanh(c).
    /// gates may be the same tensor as preactivations (in place).
    /// </summary>
    void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h);

    /// <summary>
    /// The fused LSTM cell backward. From the saved gates [B,4H], c and cPrev [B,H], and the incoming
    /// dh and dcNext [B,H], writes dPreactivations [B,4H] and dcPrev [B,H]. dPreactivations may be gates, and dcPrev
    /// may be dcNext.
    /// </summary>
    void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev);

    /// <summary>
    /// The recurrent half of an LSTM layer over all T steps in one call, where the backend has it; returns false
    /// (having done nothing) where it runs step by step through <see cref="Gemm"/> and <see cref="LstmCellForward"/>.
    /// gates [T·B, 4H] holds the input preactivations and receives the activated gates; cells and hidden [T·B, H]
    /// receive c_t and h_t; h0 and c0 [B, H] are the initial state (h0 is not read unless hasInitialHidden);
    /// weightHh [4H, H].
    /// </summary>
    bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryLstmRecurrenceForward"/>, or false where the backend runs it step by step:
    /// from the saved gates, cells and c0, with dH [T·B, H] holding dL/dh_t from above (it receives the recurrent terms)
    /// and dc [B, H] zero, writes dPre [T·B, 4H] and its column sums dBias [1, 4H] (the gradient of each bias). dPre may
    /// be gates itself (the modules pass it so): a step's gates are read before its d(pre) goes over them, never after.
    /// </summary>
    bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor dBias, Tensor weightHh, int steps, int batch);

    /// <summary>
    /// Two stacked LSTM layers' forward recurrences scheduled together (a wavefront), where the backend has it; returns
    /// false (having done nothing) where the caller runs them one after the other. Each layer's buffers are those of
    /// <see cref="TryLstmRecurrenceForward"/>, but only the lower layer's gates hold its input preactivations: the upper
    /// layer's gates receive upperInput·weightIhᵀ + bias, where upperInput [T·B, H] receives dropout(lower hidden) with
    /// probability dropout under the mask (dropoutSeed, dropoutStream) of <see cref="Dropout"/>, or is the lower hidden
    /// itself when no dropout applies. weightIh [4H, H] and bias [1, 4H] (b_ih + b_hh) are the upper layer's.
    /// </summary>
    bool TryLstmWavefrontForward(in LstmLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in LstmLayerTensors upper, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryLstmWavefrontForward"/>, or false where the caller runs the layers one after the other:
    /// each layer's buffers are those of <see cref="TryLstmRecurrenceBackward"/>; the lower layer's dH receives
    /// dropout'(upper dPre·weightIh) (dropout is 0 when the forward applied none) before its recurrence adds to it.
    /// </summary>
    bool TryLstmWavefrontBackward(in LstmLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientTensors lower, int steps, int batch);

    /// <summary>
    /// The fused GRU cell, PyTorch's gate order r, z, n. gi = x·W_ihᵀ + b_ih and gh = hPrev·W_hhᵀ + b_hh [B,3H], hPrev [B,H].
    /// Writes gates [B,3H] = r, z, n and h [B,H], with r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n),
    /// h = (1 − z)·n + z·hPrev. gates may be the same tensor as gi.
    /// </summary>
    void GruCellForward(Tensor gi, Tensor gh, Tensor hPrev, Tensor gates, Tensor h);

    /// <summary>
    /// The fused GRU cell backward. From the saved gates and gh [B,3H] and hPrev [B,H], with dh + dhNext [B,H] reaching h,
    /// writes dgi and dgh [B,3H] and dhPrev = (dh + dhNext)·z [B,H]. dgi may be gates, dgh may be gh, dhPrev may be dhNext.
    /// </summary>
    void GruCellBackward(Tensor gates, Tensor gh, Tensor hPrev, Tensor dh, Tensor dhNext, Tensor dgi, Tensor dgh, Tensor dhPrev);

    /// <summary>
    /// The recurrent half of a GRU layer over all T steps in one call, where the backend has it; returns false (having
    /// done nothing) where it runs step by step through <see cref="Gemm"/> and <see cref="GruCellForward"/>.
    /// gi [T·B, 3H] holds x·W_ihᵀ + b_ih and receives the gates r, z, n; gh [T·B, 3H] holds b_hh in every row and
    /// receives hPrev·W_hhᵀ + b_hh; hidden [T·B, H] receives h_t; h0 [B, H] is the initial state (zero unless
    /// hasInitialHidden, which alone decides whether step 0 multiplies it); weightHh [3H, H].
    /// </summary>
    bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryGruRecurrenceForward"/>, or false where the backend runs it step by step: from the
    /// saved gates, gh, hidden and h0, with dH [T·B, H] holding dL/dh_t from above (it receives the recurrent terms) and
    /// dhCarry [B, H] zero, writes dgi and dgh [T·B, 3H] and their column sums dBiasIh and dBiasHh [1, 3H]. dgi may be
    /// gates and dgh may be gh (the modules pass them so): a step's are read before its gradients go over them, never
    /// after.
    /// </summary>
    bool TryGruRecurrenceBackward(Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor dBiasIh, Tensor dBiasHh, Tensor weightHh, int steps, int batch);

    /// <summary>
    /// Two stacked GRU layers' forward recurrences scheduled together (a wavefront), as <see cref="TryLstmWavefrontForward"/>
    /// for the LSTM, or false (nothing done): each layer's buffers are those of <see cref="TryGruRecurrenceForward"/>
    /// (gh holding b_hh in every row), but the upper layer's gi receives upperInput·weightIhᵀ + biasIh [1, 3H] here.
    /// </summary>
    bool TryGruWavefrontForward(in GruLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor biasIh, in GruLayerTensors upper, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryGruWavefrontForward"/>, or false: each layer's buffers are those of
    /// <see cref="TryGruRecurrenceBackward"/>; the lower layer's dH receives dropout'(upper dgi·weightIh) first.
    /// </summary>
    bool TryGruWavefrontBackward(in GruLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientTensors lower, int steps, int batch);

    /// <summary>
    /// The recurrent half of an Elman RNN layer (nn.RNN) over all T steps in one call, where the backend has it; returns
    /// false (having done nothing) where it runs step by step through <see cref="Gemm"/> and <see cref="ActivationForward"/>.
    /// pre [T·B, H] holds the input preactivations x·W_ihᵀ + b_ih + b_hh, receives h_{t−1}·W_hhᵀ as well and keeps them;
    /// hidden [T·B, H] receives h_t = activation(pre_t); h0 [B, H] is the initial state (not read unless hasInitialHidden);
    /// weightHh [H, H]; activation is <see cref="Activation.Tanh"/> or <see cref="Activation.Relu"/>.
    /// </summary>
    bool TryRnnRecurrenceForward(Tensor pre, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, Activation activation, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryRnnRecurrenceForward"/>, or false where the backend runs it step by step: from the
    /// saved hidden, with dH [T·B, H] holding dL/dh_t from above (it receives the recurrent terms), writes dPre [T·B, H]
    /// and its column sums dBias [1, H] (the gradient of each bias). dPre may be the saved preactivations (the module
    /// passes them so): act' is read from h.
    /// </summary>
    bool TryRnnRecurrenceBackward(Tensor hidden, Tensor dH, Tensor dPre, Tensor dBias, Tensor weightHh, Activation activation, int steps, int batch);

    /// <summary>
    /// Two stacked RNN layers' forward recurrences scheduled together (a wavefront), as <see cref="TryLstmWavefrontForward"/>
    /// for the LSTM, or false (nothing done): each layer's buffers are those of <see cref="TryRnnRecurrenceForward"/>, but
    /// the upper layer's pre receives upperInput·weightIhᵀ + bias [1, H] (b_ih + b_hh) here.
    /// </summary>
    bool TryRnnWavefrontForward(in RnnLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in RnnLayerTensors upper, Activation activation, int steps, int batch);

    /// <summary>
    /// The backward of <see cref="TryRnnWavefrontForward"/>, or false: each layer's buffers are those of
    /// <see cref="TryRnnRecurrenceBackward"/>; the lower layer's dH receives dropout'(upper dPre·weightIh) first.
    /// </summary>
    bool TryRnnWavefrontBackward(in RnnLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientTensors lower, Activation activation, int steps, int batch);

    /// <summary>
    /// Fused, numerically stable softmax and cross-entropy per row of logits [N,V] with targets [N].
    /// losses[i] = −log softmax(logits[i])[targets[i]] in nats; dLogits[i] = (softmax(logits[i]) − onehot(targets[i]))·gradScale.
    /// dLogits may be the same tensor as logits. A row whose target is <paramref name="ignoreIndex"/> (when not null)
    /// gets loss 0 and the gradient softmax(logits[i])·0: 0, or NaN where its softmax is, as PyTorch's.
    /// </summary>
    void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale, int? ignoreIndex);

    /// <summary>
    /// nn.NLLLoss per row of log-probabilities [N,C] with targets [N]: losses[i] = −input[i, targets[i]];
    /// dInput[i] = −onehot(targets[i])·gradScale. dInput may be the same tensor as input. A row whose target is
    /// <paramref name="ignoreIndex"/> (when not null) gets loss 0 and a zero gradient, whatever it holds.
    /// </summary>
    void NllLoss(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex);

    /// <summary>y = log_softmax(x) per row of [N,V], shifted by each row's maximum; y is another tensor than x.</summary>
    void LogSoftmax(Tensor x, Tensor y);

    /// <summary>The backward of the row softmax from its output y [N,V]: dx = y ⊙ (dy − Σ_row dy⊙y); dx may be dy.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /// <summary>The backward of <see cref="LogSoftmax"/> from its output y [N,V]: dx = dy − e^y·Σ_row dy; dx may be dy.</summary>
    void LogSoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /// <summary>
    /// Layer normalization of each row of x [N, D] (torch.nn.LayerNorm over the last dimension): writes mean and rstd [N]
    /// (rstd = 1/√(var + epsilon), var the biased variance, both from a float32 two-pass) and
    /// y = (x − mean)·rstd·weight + bias [N, D]. weight and bias are D long, or null for none. y may be x.
    /// </summary>
    void LayerNormForward(Tensor x, Tensor? weight, Tensor? bias, float epsilon, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>
    /// The backward of <see cref="LayerNormForward"/> from its x, mean and rstd: writes dx [N, D] and adds Σ_rows dy·x̂
    /// to dWeight and Σ_rows dy to dBias (x̂ = (x − mean)·rstd; each gradient D long, or null to skip). dx may be dy.
    /// </summary>
    void LayerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias);

    /// <summary>
    /// Each channel's mean and biased variance [C] of x [N, C] or [N, C, L] (channel c's values are x[n, c, l] over every
    /// n and l, M = N·L of them, M ≥ 1), from a float32 shifted two-pass summed in double; with runningMean and
    /// runningVariance (both [C], or both null), updates them as torch.nn.BatchNorm1d does in training:
    /// running = (1 − factor)·running + factor·batch, the variance's unbiased (·M/(M − 1), M ≥ 2).
    /// </summary>
    void BatchNormStatistics(Tensor x, Tensor mean, Tensor variance, Tensor? runningMean, Tensor? runningVariance, float factor);

    /// <summary>
    /// y = (x − mean)/√(variance + epsilon)·weight + bias per channel of x [N, C] or [N, C, L], mean and variance [C]
    /// (the batch's or running ones); weight and bias are C long, or null for none. y may be x.
    /// </summary>
    void BatchNormForward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float epsilon, Tensor y);

    /// <summary>
    /// The backward of <see cref="BatchNormForward"/>: adds Σ dy·x̂ to dWeight and Σ dy to dBias per channel
    /// (x̂ = (x − mean)/√(variance + epsilon); each gradient C long, or null to skip) and writes dx, treating mean and
    /// variance as the batch's own (functions of x) when batchStatistics is true, else as constants. dx may be dy.
    /// </summary>
    void BatchNormBackward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, float epsilon, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias, bool batchStatistics);

    /// <summary>y = f(x); y may be x.</summary>
    void ActivationForward(Activation activation, Tensor x, Tensor y);

    /// <summary>
    /// dx = dy·f'(x), from the forward input x and output y = f(x) (each activation reads the one its f' is written
    /// through, and may leave the other unread); dx may be dy.
    /// </summary>
    void ActivationBackward(Activation activation, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /// <summary>y = x for x &gt; 0, else negativeSlope·x (<see cref="Activation.LeakyRelu"/>); y may be x.</summary>
    void LeakyReluForward(Tensor x, Tensor y, float negativeSlope);

    /// <summary>dx = dy for x &gt; 0, else negativeSlope·dy, from the forward input x; dx may be dy.</summary>
    void LeakyReluBackward(Tensor x, Tensor dy, Tensor dx, float negativeSlope);

    /// <summary>
    /// Inverted dropout: y = x·keep/(1−p), with keep = (u ≥ p) for a uniform u from a counter-based
    /// generator keyed by (seed, stream) at each element's index, so every device draws the same mask.
    /// The backward pass is the same call on the gradients with the same seed and stream. y may be x.
    /// </summary>
    void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream);

    /// <summary>
    /// One torch.optim.Adam step in place over parameters, m and v, and with amsgrad the running maximum vMax (not
    /// touched without it); step counts from 1.
    /// </summary>
    void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, Tensor vMax, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step);

    /// <summary>Σ x², accumulated in double; waits for the result.</summary>
    double SumOfSquares(Tensor x);

    /// <summary>
    /// The fused elementwise loss <paramref name="loss"/> (β or δ in <paramref name="parameter"/>) of prediction x
    /// against target y, of one length: gradient[i] = gradScale·dℓ/dx[i], and returns Σ ℓ accumulated in double,
    /// deterministic for a device and thread count; waits for the result. posWeight, for
    /// <see cref="ElementwiseLossKind.BceWithLogits"/> only, is null or holds one weight per column of rows of its length.
    /// </summary>
    double ElementwiseLoss(ElementwiseLossKind loss, float parameter, Tensor x, Tensor y, Tensor? posWeight, Tensor gradient, float gradScale);

    /// <summary>x *= alpha.</summary>
    void Scale(Tensor x, float alpha);

    /// <summary>probabilities[i] = softmax(logits[i] / temperature) per row of [N,V].</summary>
    void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature);

    /// <summary>y = a + alpha·b elementwise; y may be a or b.</summary>
    void Add(Tensor a, Tensor b, Tensor y, float alpha);

    /// <summary>y = a·b elementwise; y may be a or b.</summary>
    void Multiply(Tensor a, Tensor b, Tensor y);

    /// <summary>x[r, j] *= scale[r] for x [rows, columns] and scale [rows].</summary>
    void ScaleRows(Tensor x, Tensor scale);

    /// <summary>output[i] = source[positions[i]] for positions [N] in [0, source.Length) and output [N]; output is neither input.</summary>
    void GatherIndices(IndexTensor source, IndexTensor positions, IndexTensor output);

    /// <summary>result[r] = the first column of row r's maximum.</summary>
    void ArgmaxRows(Tensor x, IndexTensor result);

    /// <summary>output[i, :] = table[indices[i], :] for table [Rows, Columns] (nn.Embedding), output [N, Columns].</summary>
    void GatherRows(Tensor table, IndexTensor indices, Tensor output);

    /// <summary>
    /// gradTable[indices[i], :] += gradOutput[i, :], the backward of <see cref="GatherRows"/>, for every i with
    /// indices[i] ≠ <paramref name="skipRow"/> (nn.Embedding's padding_idx); −1 skips none. Row skipRow keeps its values.
    /// </summary>
    void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable, int skipRow);

    /// <summary>
    /// columns [N·L_out, C·k] = the unfold (im2col) of x [N, C, L] for a 1-d convolution of <paramref name="geometry"/>:
    /// row n·L_out + t, column c·k + j is x[n, c, t·stride − left padding + j·dilation], 0 outside x. columns is not x.
    /// </summary>
    void Unfold1d(Tensor x, Tensor columns, Conv1dGeometry geometry);

    /// <summary>
    /// x [N, C, L] = the fold (col2im) of columns [N·L_out, C·k], the adjoint of <see cref="Unfold1d"/>: each element of x
    /// is written with the sum of the columns' elements the unfold reads from it (0 for none). x is not columns.
    /// </summary>
    void Fold1d(Tensor columns, Tensor x, Conv1dGeometry geometry);

    /// <summary>
    /// columns [N·H_out·W_out, C·kH·kW] = the unfold (im2col) of x [N, C, H, W] for a 2-d convolution of
    /// <paramref name="geometry"/>: row (n·H_out + s)·W_out + t, column (c·kH + i)·kW + j is
    /// x[n, c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], 0 outside x. columns is not x.
    /// </summary>
    void Unfold2d(Tensor x, Tensor columns, Conv2dGeometry geometry);

    /// <summary>
    /// x [N, C, H, W] = the fold (col2im) of columns [N·H_out·W_out, C·kH·kW], the adjoint of <see cref="Unfold2d"/>: each
    /// element of x is written with the sum of the columns' elements the unfold reads from it (0 for none). x is not columns.
    /// </summary>
    void Fold2d(Tensor columns, Tensor x, Conv2dGeometry geometry);

    /// <summary>
    /// y [N, C·m, L_out] = bias + the depthwise convolution of x [N, C, L] by weight [C·m, 1, k] (<paramref name="geometry"/>):
    /// y[n, o, t] = bias[o] + Σ_i weight[o, 0, i]·x[n, o/m, t·stride − left + i·dilation], the taps outside x zero; no bias
    /// when <paramref name="bias"/> is null. y is none of the inputs.
    /// </summary>
    void DepthwiseConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor y, DepthwiseConv1dGeometry geometry);

    /// <summary>
    /// dx [N, C, L] of <see cref="DepthwiseConv1d"/> from dy [N, C·m, L_out]: each element written with the sum of
    /// weight·dy over the taps that read it (0 for none), each sum in a fixed order, without atomics. dx is neither input.
    /// </summary>
    void DepthwiseConv1dBackwardInput(Tensor dy, Tensor weight, Tensor dx, DepthwiseConv1dGeometry geometry);

    /// <summary>
    /// weightGradient [C·m, 1, k] += Σ over n and t of dy·x at each tap, and biasGradient [C·m] (when not null) += Σ over n
    /// and t of dy, for <see cref="DepthwiseConv1d"/>'s x and dy; each sum in a fixed order, without atomics. The gradients
    /// are neither input.
    /// </summary>
    void DepthwiseConv1dBackwardWeight(Tensor x, Tensor dy, Tensor weightGradient, Tensor? biasGradient, DepthwiseConv1dGeometry geometry);

    /// <summary>
    /// output [Rows, P] = input [Rows, L] gathered through map [P], one map for every row: output[r, p] = input[r, map[p]],
    /// map in [0, L). output is not input.
    /// </summary>
    void GatherPositions(Tensor input, IndexTensor map, Tensor output);

    /// <summary>
    /// gradInput [Rows, L], the adjoint of <see cref="GatherPositions"/> through the map's inverse
    /// (<see cref="PositionGatherInverse"/>: starts [L + 1] in [0, P], copies [P] in [0, P)): gradInput[r, l] = Σ over i in
    /// [starts[l], starts[l + 1]) of gradOutput[r, copies[i]], in order of i, 0 for none; no atomics, the same floats on
    /// every device. gradInput is not gradOutput.
    /// </summary>
    void GatherPositionsBackward(Tensor gradOutput, IndexTensor starts, IndexTensor copies, Tensor gradInput);

    /// <summary>
    /// y [N, C, L_out] or [N, C, H_out, W_out] = the maximum of each window of x [N, C, L] or [N, C, H, W]
    /// (<paramref name="geometry"/>'s windows over its N·C planes; a 1-d pooling's of height 1), and argmax, one per
    /// element of y, its position h·W + w in the plane: the first maximum, or the last NaN where the window holds one;
    /// −∞ and −1 for a window with no tap inside x. y is not x.
    /// </summary>
    void MaxPool(Tensor x, Tensor y, IndexTensor argmax, Pool2dGeometry geometry);

    /// <summary>
    /// dx, shaped as x: each element the sum of dy, shaped as y, over the outputs whose <paramref name="argmax"/> (as
    /// <see cref="MaxPool"/> wrote it) is its position, 0 for none. dx is not dy.
    /// </summary>
    void MaxPoolBackward(Tensor dy, IndexTensor argmax, Tensor dx, Pool2dGeometry geometry);

    /// <summary>y = the sum of each window's taps inside x over the window's divisor (<see cref="Pool2dGeometry.Divisor"/>), shaped as in <see cref="MaxPool"/>. y is not x.</summary>
    void AvgPool(Tensor x, Tensor y, Pool2dGeometry geometry);

    /// <summary>dx, shaped as x: each element the sum, over the windows it is a tap of, of their dy over their divisor; 0 for none. dx is not dy.</summary>
    void AvgPoolBackward(Tensor dy, Tensor dx, Pool2dGeometry geometry);

    /// <summary>One torch.optim.SGD step in place; momentum is not touched when the coefficients' momentum is 0.</summary>
    void SgdStep(Tensor parameters, Tensor gradients, Tensor momentum, SgdCoefficients coefficients);

    /// <summary>
    /// One torch.optim.RMSprop step in place over parameters and the mean square; the momentum buffer is not touched
    /// when the coefficients' momentum is 0, nor the mean gradient when they are not centered.
    /// </summary>
    void RMSpropStep(Tensor parameters, Tensor gradients, Tensor squareAverage, Tensor momentumBuffer, Tensor gradientAverage, RMSpropCoefficients coefficients);
}
