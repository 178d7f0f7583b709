using System.Globalization;
using System.Reflection;
using Google.Protobuf;
using Tensorlet.Kernels;
using Tensorlet.Nn;
using Tensorlet.Onnx.Proto;

namespace Tensorlet.Onnx;

/// <summary>
/// Builds an ONNX graph layer by layer from parameters given by their PyTorch state_dict names, one method per
/// layer kind. Each method takes the name of the graph value it reads and returns the name of the value it
/// writes, so layers chain like the modules of an nn.Sequential.
/// <para>
/// The graph uses the default ONNX domain at opset <see cref="Opset"/> (IR version <see cref="IrVersion"/>).
/// Sequences are time-major, [T, B, features], as nn.LSTM without batch_first and as ONNX's recurrent operators
/// with layout 0. Dropout is the identity: an exported graph is for inference.
/// </para>
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>
    /// The opset: 14, the first in which every operator used here (LSTM, GRU, Relu, Add) has its current
    /// definition, so newer runtimes run it unchanged and runtimes back to ONNX Runtime 1.8 load it. It is also
    /// PyTorch 1.13's default export opset.
    /// </summary>
    public const int Opset = 14;

    /// <summary>The IR version that goes with <see cref="Opset"/> 14.</summary>
    public const int IrVersion = 7;

    private readonly IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict;
    private readonly GraphProto graph;
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> constants = new(StringComparer.Ordinal); // by type and values

    /// <summary>Starts an empty graph over <paramref name="stateDict"/>: parameter name → (shape, values), as <c>ParameterCollection.ToHost()</c> gives.</summary>
    /// <param name="stateDict">The parameters, by state_dict name, in PyTorch's layouts.</param>
    /// <param name="graphName">The graph's name.</param>
    public OnnxGraphBuilder(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict, string graphName = "tensorlet")
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        this.stateDict = stateDict;
        graph = new GraphProto { Name = graphName };
    }

    /// <summary>Declares a graph input and returns its name.</summary>
    public string Input(string name, OnnxElementType type, params OnnxDimension[] shape)
    {
        graph.Input.Add(ValueInfo(Claim(name), type, shape));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a graph output under <paramref name="name"/> (an Identity renames it when the two differ).</summary>
    public void Output(string value, string name, OnnxElementType type, params OnnxDimension[] shape)
    {
        if (value != name)
        {
            Node("Identity", name, [value], [Claim(name)]);
        }

        graph.Output.Add(ValueInfo(name, type, shape));
    }

    /// <summary>nn.Embedding: a Gather of the rows of <c>{prefix}.weight</c> [num_embeddings, embedding_dim] at the int64 ids <paramref name="indices"/>.</summary>
    public string Embedding(string prefix, string indices)
    {
        var weight = Parameter(prefix, "Embedding", prefix + ".weight", rank: 2);
        return Node("Gather", prefix, [Initializer(prefix + ".weight", weight.Shape, weight.Data), indices]);
    }

    /// <summary>
    /// nn.Linear on one-hot input, as a gather: row <c>i</c> of <c>{prefix}.weight</c>ᵀ plus <c>{prefix}.bias</c>
    /// (when <paramref name="bias"/>) for each int64 id <c>i</c> of <paramref name="indices"/>. Nothing one-hot is built.
    /// </summary>
    public string OneHotLinear(string prefix, string indices, bool bias = true)
    {
        var weight = LinearWeight(prefix, "one-hot Linear");
        var table = Node("Transpose", prefix, [Initializer(prefix + ".weight", weight.Shape, weight.Data)], attributes: [Ints("perm", [1, 0])]);
        return AddLinearBias(prefix, "one-hot Linear", Node("Gather", prefix, [table, indices]), weight, bias);
    }

    /// <summary>
    /// nn.Linear on the last axis of <paramref name="input"/>: <c>input · {prefix}.weight</c>ᵀ <c>+ {prefix}.bias</c>
    /// (when <paramref name="bias"/>), for input of any rank.
    /// </summary>
    public string Linear(string prefix, string input, bool bias = true)
    {
        var weight = LinearWeight(prefix, "Linear");
        var transposed = Node("Transpose", prefix, [Initializer(prefix + ".weight", weight.Shape, weight.Data)], attributes: [Ints("perm", [1, 0])]);
        return AddLinearBias(prefix, "Linear", Node("MatMul", prefix, [input, transposed]), weight, bias);
    }

    /// <summary>nn.LeakyReLU's default slope, which <see cref="Activation"/> takes when given none.</summary>
    public const float DefaultNegativeSlope = 0.01f;

    /// <summary>
    /// An element-wise activation: Relu, Tanh, Sigmoid and LeakyRelu (its slope as <c>alpha</c>), one node each; GELU
    /// and SiLU, which opset 14 lacks, composed of the operators PyTorch's exporter uses for them (<see cref="Gelu"/>,
    /// <see cref="GeluTanh"/>; SiLU as Sigmoid then Mul).
    /// </summary>
    /// <param name="activation">The activation.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="name">The layer's name (used for node names).</param>
    /// <param name="negativeSlope">Leaky ReLU's slope (the others have none).</param>
    public string Activation(Activation activation, string input, string name = "activation", float negativeSlope = DefaultNegativeSlope) => activation switch
    {
        Kernels.Activation.Relu => Node("Relu", name, [input]),
        Kernels.Activation.Tanh => Node("Tanh", name, [input]),
        Kernels.Activation.Sigmoid => Node("Sigmoid", name, [input]),
        Kernels.Activation.Gelu => Gelu(input, name),
        Kernels.Activation.GeluTanh => GeluTanh(input, name),
        Kernels.Activation.Silu => Node("Mul", name, [input, Node("Sigmoid", name, [input])]),
        Kernels.Activation.LeakyRelu => Node("LeakyRelu", name, [input], attributes: [Float("alpha", negativeSlope)]),
        _ => throw new OnnxExportException($"The activation '{name}' ({activation}) has no ONNX export; Relu, Tanh, Sigmoid, Gelu, GeluTanh, Silu and LeakyRelu do."),
    };

    /// <summary>
    /// nn.Softmax(dim=-1), or nn.LogSoftmax(dim=-1) when <paramref name="log"/>: the operator of that name with axis −1,
    /// which since opset 13 normalizes along that one axis (before, it flattened every axis from it on).
    /// </summary>
    public string Softmax(string input, bool log, string name = "softmax")
        => Node(log ? "LogSoftmax" : "Softmax", name, [input], attributes: [Int("axis", -1)]);

    /// <summary>
    /// nn.LayerNorm over the last axis of <paramref name="input"/>, of any rank, as its composition: ReduceMean, Sub,
    /// Mul, ReduceMean (the biased variance), Add ε, Sqrt, Div, then Mul by <c>{prefix}.weight</c> and Add
    /// <c>{prefix}.bias</c> where the layer has them. ONNX's LayerNormalization operator needs opset 17.
    /// </summary>
    /// <param name="prefix">The layer's state_dict prefix.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="epsilon">ε, added to the variance.</param>
    /// <param name="weight">Whether the layer has <c>{prefix}.weight</c> [D].</param>
    /// <param name="bias">Whether the layer has <c>{prefix}.bias</c> [D].</param>
    public string LayerNorm(string prefix, string input, float epsilon, bool weight = true, bool bias = true)
    {
        string what = $"LayerNorm '{prefix}'";
        var mean = Node("ReduceMean", prefix, [input], LastAxisKept());
        var centered = Node("Sub", prefix, [input, mean]);
        var variance = Node("ReduceMean", prefix, [Node("Mul", prefix, [centered, centered])], LastAxisKept());
        var deviation = Node("Sqrt", prefix, [Node("Add", prefix, [variance, AddTensor(Fresh(prefix + ".epsilon"), [], [epsilon])])]);
        var y = Node("Div", prefix, [centered, deviation]);
        (int[] Shape, float[] Data)? scale = null;
        if (weight)
        {
            scale = Parameter(prefix, what, prefix + ".weight", rank: 1);
            y = Node("Mul", prefix, [y, Initializer(prefix + ".weight", scale.Value.Shape, scale.Value.Data)]);
        }

        if (bias)
        {
            var shift = Parameter(prefix, what, prefix + ".bias", rank: 1);
            if (scale is { } w)
            {
                CheckShape(what, prefix + ".bias", shift.Shape, w.Shape);
            }

            y = Node("Add", prefix, [y, Initializer(prefix + ".bias", shift.Shape, shift.Data)]);
        }

        return y;

        // ReduceMean over the last axis, kept as 1 so that the result broadcasts against the input (opset 13's attributes).
        static AttributeProto[] LastAxisKept() => [Ints("axes", [-1]), Int("keepdims", 1)];
    }

    /// <summary>
    /// nn.BatchNorm1d or nn.BatchNorm2d in evaluation mode over the channels (axis 1) of <paramref name="input"/> [N, C],
    /// [N, C, L] or [N, C, H, W]: one BatchNormalization node (its inference form) with <c>{prefix}.running_mean</c> and
    /// <c>{prefix}.running_var</c>, scaled by <c>{prefix}.weight</c> and shifted by <c>{prefix}.bias</c>, or by ones and
    /// zeros when the layer has neither (<paramref name="affine"/> false).
    /// </summary>
    /// <param name="prefix">The layer's state_dict prefix.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="channels">C.</param>
    /// <param name="epsilon">ε, added to the variance.</param>
    /// <param name="affine">Whether the layer has <c>{prefix}.weight</c> and <c>{prefix}.bias</c> [C].</param>
    /// <param name="layer">The layer's kind, as a missing or misshapen parameter's message names it.</param>
    public string BatchNorm(string prefix, string input, int channels, float epsilon, bool affine = true, string layer = nameof(BatchNorm1d))
    {
        string what = $"{layer} '{prefix}'";
        int[] shape = [channels];
        string Read(string name)
        {
            var t = Parameter(prefix, what, $"{prefix}.{name}", rank: 1);
            CheckShape(what, $"{prefix}.{name}", t.Shape, shape);
            return Initializer($"{prefix}.{name}", t.Shape, t.Data);
        }

        var scale = affine ? Read("weight") : AddTensor(Fresh(prefix + ".ones"), shape, Enumerable.Repeat(1f, channels).ToArray());
        var shift = affine ? Read("bias") : AddTensor(Fresh(prefix + ".zeros"), shape, new float[channels]);
        return Node("BatchNormalization", prefix, [input, scale, shift, Read("running_mean"), Read("running_var")], [Float("epsilon", epsilon)]);
    }

    /// <summary>
    /// nn.Conv1d (zero padding) over <paramref name="input"/> [N, C_in, L]: one Conv node with <c>{prefix}.weight</c>
    /// [C_out, C_in/groups, k], its <c>group</c> attribute <paramref name="groups"/>, and, when <paramref name="bias"/>,
    /// <c>{prefix}.bias</c> [C_out]; its output is [N, C_out, L_out]. Its <c>pads</c> are [left, right], which differ
    /// for padding='same' with an odd dilated reach.
    /// </summary>
    /// <param name="prefix">The layer's state_dict prefix.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="stride">The step between output positions.</param>
    /// <param name="paddingLeft">The zeros before the input.</param>
    /// <param name="paddingRight">The zeros after the input.</param>
    /// <param name="dilation">The step between the kernel's taps.</param>
    /// <param name="bias">Whether the layer has <c>{prefix}.bias</c>.</param>
    /// <param name="groups">The groups the channels are split into (nn.Conv1d's <c>groups</c>).</param>
    public string Conv1d(string prefix, string input, int stride, int paddingLeft, int paddingRight, int dilation, bool bias = true, int groups = 1)
        => Conv(nameof(Conv1d), prefix, input, [stride], [paddingLeft, paddingRight], [dilation], bias, groups);

    /// <summary>
    /// nn.Conv2d (zero padding) over <paramref name="input"/> [N, C_in, H, W]: one Conv node with <c>{prefix}.weight</c>
    /// [C_out, C_in/groups, kH, kW], its <c>group</c> attribute <paramref name="groups"/>, and, when <paramref name="bias"/>,
    /// <c>{prefix}.bias</c> [C_out]; its output is [N, C_out, H_out, W_out]. Its <c>pads</c> are ONNX's
    /// [top, left, bottom, right].
    /// </summary>
    /// <param name="prefix">The layer's state_dict prefix.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="stride">The step between output positions on each axis.</param>
    /// <param name="paddingTop">The zero rows above the input.</param>
    /// <param name="paddingBottom">The zero rows below the input.</param>
    /// <param name="paddingLeft">The zero columns before the input.</param>
    /// <param name="paddingRight">The zero columns after the input.</param>
    /// <param name="dilation">The step between the kernel's taps on each axis.</param>
    /// <param name="bias">Whether the layer has <c>{prefix}.bias</c>.</param>
    /// <param name="groups">The groups the channels are split into (nn.Conv2d's <c>groups</c>).</param>
    public string Conv2d(string prefix, string input, Size2d stride, int paddingTop, int paddingBottom, int paddingLeft, int paddingRight, Size2d dilation, bool bias = true, int groups = 1)
        => Conv(nameof(Conv2d), prefix, input, Axes(stride), [paddingTop, paddingLeft, paddingBottom, paddingRight], Axes(dilation), bias, groups);

    // One Conv node over as many spatial axes as strides has: the weight [C_out, C_in/groups, k...] (its kernel_shape)
    // and the bias [C_out] read under the prefix.
    private string Conv(string layer, string prefix, string input, long[] strides, long[] pads, long[] dilations, bool bias, int groups)
    {
        string what = $"{layer} '{prefix}'";
        var weight = Parameter(prefix, what, prefix + ".weight", rank: 2 + strides.Length);
        List<string> inputs = [input, Initializer(prefix + ".weight", weight.Shape, weight.Data)];
        if (bias)
        {
            var values = Parameter(prefix, what, prefix + ".bias", rank: 1);
            CheckShape(what, prefix + ".bias", values.Shape, [weight.Shape[0]]);
            inputs.Add(Initializer(prefix + ".bias", values.Shape, values.Data));
        }

        return Node("Conv", prefix, inputs, [Ints("kernel_shape", [.. weight.Shape.Skip(2).Select(k => (long)k)]), Ints("strides", strides), Ints("pads", pads), Ints("dilations", dilations), Int("group", groups)]);
    }

    /// <summary>
    /// A Conv1d's padding by a mode other than zeros, as PyTorch's exporter writes F.pad: [N, C, L] → [N, C, left + L +
    /// right]. Reflect and replicate are one Pad node whose pads are [0, 0, left, 0, 0, right] and whose mode is
    /// "reflect" or "edge"; circular, which opset 14's Pad has no mode for, is the last <paramref name="left"/> and the
    /// first <paramref name="right"/> positions (two Slices on axis 2, each left out at 0) concatenated around the input
    /// on axis 2, which wraps it once where L is at least each side's padding.
    /// </summary>
    /// <param name="prefix">The layer's state_dict prefix.</param>
    /// <param name="input">The value it reads.</param>
    /// <param name="left">The positions before the input.</param>
    /// <param name="right">The positions after the input.</param>
    /// <param name="mode">Reflect, Replicate or Circular.</param>
    public string Pad1d(string prefix, string input, int left, int right, PaddingMode mode)
    {
        if (mode != PaddingMode.Circular)
        {
            if (mode == PaddingMode.Zeros)
            {
                throw new ArgumentOutOfRangeException(nameof(mode), "Pad1d's mode must be Reflect, Replicate or Circular (zeros are the convolution's own pads); got Zeros.");
            }

            return Node("Pad", prefix, [input, Int64Constant([0, 0, left, 0, 0, right])], [String("mode", mode == PaddingMode.Reflect ? "reflect" : "edge")]);
        }

        List<string> parts = [];
        if (left > 0)
        {
            parts.Add(Slice(input, -left, left, prefix + ".tail", axis: 2));
        }

        parts.Add(input);
        if (right > 0)
        {
            parts.Add(Slice(input, 0, right, prefix + ".head", axis: 2));
        }

        return Concat(parts, prefix, axis: 2);
    }

    /// <summary>nn.MaxPool1d over [N, C, L]: one MaxPool node, the padding on both sides.</summary>
    /// <param name="input">The value it reads.</param>
    /// <param name="kernelSize">k, the taps of the window.</param>
    /// <param name="stride">The step between windows.</param>
    /// <param name="padding">The padding on each side, which is never the maximum.</param>
    /// <param name="dilation">The step between the window's taps.</param>
    /// <param name="ceilMode">Whether L_out rounds up (ceil_mode 1; the attribute is left out, at its default 0, otherwise).</param>
    /// <param name="name">The node's name.</param>
    public string MaxPool1d(string input, int kernelSize, int stride, int padding, int dilation, bool ceilMode, string name = "maxpool")
        => MaxPool(input, [kernelSize], [stride], [padding, padding], [dilation], ceilMode, name);

    /// <summary>nn.MaxPool2d over [N, C, H, W]: one MaxPool node, its <c>pads</c> ONNX's [top, left, bottom, right].</summary>
    /// <param name="input">The value it reads.</param>
    /// <param name="kernelSize">(k_h, k_w), the taps of the window along each axis.</param>
    /// <param name="stride">The step between windows along each axis.</param>
    /// <param name="padding">The padding on each side along each axis, which is never the maximum.</param>
    /// <param name="dilation">The step between the window's taps along each axis.</param>
    /// <param name="ceilMode">Whether H_out and W_out round up (ceil_mode 1; the attribute is left out, at its default 0, otherwise).</param>
    /// <param name="name">The node's name.</param>
    public string MaxPool2d(string input, Size2d kernelSize, Size2d stride, Size2d padding, Size2d dilation, bool ceilMode, string name = "maxpool")
        => MaxPool(input, Axes(kernelSize), Axes(stride), Pads(padding), Axes(dilation), ceilMode, name);

    /// <summary>nn.AvgPool1d over [N, C, L]: one AveragePool node, the padding on both sides, counted in the mean or not.</summary>
    /// <param name="input">The value it reads.</param>
    /// <param name="kernelSize">k, the width of the window.</param>
    /// <param name="stride">The step between windows.</param>
    /// <param name="padding">The zeros on each side.</param>
    /// <param name="countIncludePad">Whether the mean divides by its positions inside the input and the padding (count_include_pad) or by those inside the input.</param>
    /// <param name="ceilMode">Whether L_out rounds up (ceil_mode 1; the attribute is left out, at its default 0, otherwise).</param>
    /// <param name="name">The node's name.</param>
    public string AvgPool1d(string input, int kernelSize, int stride, int padding, bool countIncludePad, bool ceilMode, string name = "avgpool")
        => AveragePool(input, [kernelSize], [stride], [padding, padding], countIncludePad, ceilMode, name);

    /// <summary>
    /// nn.AvgPool2d over [N, C, H, W]: one AveragePool node, its <c>pads</c> ONNX's [top, left, bottom, right], the
    /// padding counted in the mean or not.
    /// </summary>
    /// <param name="input">The value it reads.</param>
    /// <param name="kernelSize">(k_h, k_w), the size of the window along each axis.</param>
    /// <param name="stride">The step between windows along each axis.</param>
    /// <param name="padding">The zeros on each side along each axis.</param>
    /// <param name="countIncludePad">Whether the mean divides by its positions inside the input and the padding (count_include_pad) or by those inside the input.</param>
    /// <param name="ceilMode">Whether H_out and W_out round up (ceil_mode 1; the attribute is left out, at its default 0, otherwise).</param>
    /// <param name="name">The node's name.</param>
    public string AvgPool2d(string input, Size2d kernelSize, Size2d stride, Size2d padding, bool countIncludePad, bool ceilMode, string name = "avgpool")
        => AveragePool(input, Axes(kernelSize), Axes(stride), Pads(padding), countIncludePad, ceilMode, name);

    /// <summary>
    /// nn.AdaptiveMaxPool1d(1) or nn.AdaptiveAvgPool1d(1), [N, C, L] → [N, C, 1], and their 2-d forms, [N, C, H, W] →
    /// [N, C, 1, 1]: one GlobalMaxPool or GlobalAveragePool node.
    /// </summary>
    public string GlobalPool(string input, bool max, string name = "globalpool") => Node(max ? "GlobalMaxPool" : "GlobalAveragePool", name, [input]);

    // One MaxPool node over as many spatial axes as kernelShape has; pads are every axis's start, then every axis's end.
    private string MaxPool(string input, long[] kernelShape, long[] strides, long[] pads, long[] dilations, bool ceilMode, string name)
        => Node("MaxPool", name, [input], [Ints("kernel_shape", kernelShape), Ints("strides", strides), Ints("pads", pads), Ints("dilations", dilations), .. CeilMode(ceilMode)]);

    // One AveragePool node over as many spatial axes as kernelShape has, laid out as MaxPool's.
    private string AveragePool(string input, long[] kernelShape, long[] strides, long[] pads, bool countIncludePad, bool ceilMode, string name)
        => Node("AveragePool", name, [input], [Ints("kernel_shape", kernelShape), Ints("strides", strides), Ints("pads", pads), Int("count_include_pad", countIncludePad ? 1 : 0), .. CeilMode(ceilMode)]);

    // A 2-d size as an attribute's (height, width).
    private static long[] Axes(Size2d size) => [size.Height, size.Width];

    // A 2-d pooling's padding, the same on both sides of an axis, as ONNX's pads [top, left, bottom, right].
    private static long[] Pads(Size2d padding) => [padding.Height, padding.Width, padding.Height, padding.Width];

    /// <summary>nn.Flatten(): [N, ...] → [N, the product of the rest], one Flatten node on axis 1.</summary>
    public string Flatten(string input, string name = "flatten") => Node("Flatten", name, [input], [Int("axis", 1)]);

    /// <summary>nn.Dropout at inference: the identity.</summary>
    public string Dropout(string input, string name = "dropout") => Node("Identity", name, [input]);

    /// <summary>
    /// Elements [start, start + count) along <paramref name="axis"/>, as torch.narrow(x, axis, start, count) (and
    /// Tensorlet's Slice module); a negative <paramref name="start"/> counts from the end, a negative axis from the last.
    /// </summary>
    public string Slice(string input, int start, int count, string name = "slice", int axis = 0)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(count);
        long end = start < 0 && start + count >= 0 ? long.MaxValue : start + count;
        return Node("Slice", name, [input, Int64Constant([start]), Int64Constant([end]), Int64Constant([axis])]);
    }

    /// <summary>
    /// The axes of <paramref name="input"/> permuted, output axis i being input axis perm[i]: [B, T, ..] ↔ [T, B, ..]
    /// around a batch-first recurrent layer with perm (1, 0, ..). (ONNX's own batch-first layout, the recurrent
    /// operators' layout = 1, is not used: ONNX Runtime refuses it.)
    /// </summary>
    public string Transpose(string input, long[] perm, string name = "transpose") => Node("Transpose", name, [input], attributes: [Ints("perm", perm)]);

    /// <summary>
    /// A one-hot float encoding [.., <paramref name="depth"/>] of int64 ids, for a recurrent layer, whose ONNX
    /// operator takes dense input (a gather into the gates would need a 4H × 4H identity in place of W).
    /// </summary>
    public string OneHot(string indices, int depth, string name = "one_hot")
    {
        ArgumentChecks.ThrowIfNegativeOrZero(depth);
        var depthValue = Int64Constant([depth]);
        var values = AddTensor(Fresh(name + ".values"), [2], [0f, 1f]);
        return Node("OneHot", name, [indices, depthValue, values]);
    }

    /// <summary>
    /// nn.LSTM (<paramref name="numLayers"/> stacked layers) on <paramref name="input"/> [T, B, In], from
    /// <paramref name="initialHidden"/> and <paramref name="initialCell"/> [L·D, B, H] (D = 2 when
    /// <paramref name="bidirectional"/>, else 1). Reads <c>{prefix}.weight_ih_l{k}</c> [4H, In], <c>weight_hh_l{k}</c>
    /// [4H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [4H] (and the same with <c>_reverse</c>), reorders the gates
    /// from PyTorch's i, f, g, o to ONNX's i, o, f, c, and emits one ONNX LSTM node per layer (direction
    /// "bidirectional", W, R and B stacked forward then reverse, when bidirectional).
    /// </summary>
    public RecurrentOutputs Lstm(string prefix, int numLayers, string input, string initialHidden, string initialCell, bool bidirectional = false)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(numLayers);
        int directions = bidirectional ? 2 : 1;
        var finalHidden = new List<string>();
        var finalCell = new List<string>();
        string x = input;
        for (int k = 0; k < numLayers; k++)
        {
            var (w, r, b, hidden) = RecurrentLayer(prefix, "LSTM", k, gates: 4, OnnxLstmGateOrder, directions);
            var h0 = SliceLayer(initialHidden, k, directions, $"{prefix}.l{k}.h0");
            var c0 = SliceLayer(initialCell, k, directions, $"{prefix}.l{k}.c0");
            var outputs = Outputs($"{prefix}.l{k}", "Y", "Y_h", "Y_c");
            Node("LSTM", $"{prefix}.l{k}", [x, w, r, b, "", h0, c0], outputs, RecurrentAttributes(hidden, bidirectional));
            x = LayerOutput(outputs[0], bidirectional, $"{prefix}.l{k}");
            finalHidden.Add(outputs[1]);
            finalCell.Add(outputs[2]);
        }

        return new RecurrentOutputs(x, Concat(finalHidden, prefix + ".h_n"), Concat(finalCell, prefix + ".c_n"));
    }

    /// <summary>
    /// nn.GRU (<paramref name="numLayers"/> stacked layers) on <paramref name="input"/> [T, B, In], from
    /// <paramref name="initialHidden"/> [L·D, B, H] (D = 2 when <paramref name="bidirectional"/>, else 1). Reads
    /// <c>{prefix}.weight_ih_l{k}</c> [3H, In], <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c> and
    /// <c>bias_hh_l{k}</c> [3H] (and the same with <c>_reverse</c>), reorders the gates from PyTorch's r, z, n to ONNX's
    /// z, r, h, and emits one ONNX GRU node per layer with <c>linear_before_reset = 1</c>: PyTorch applies the reset gate
    /// to (W_hn h + b_hn), after the recurrent matmul.
    /// </summary>
    public RecurrentOutputs Gru(string prefix, int numLayers, string input, string initialHidden, bool bidirectional = false)
        => HiddenStateLayers("GRU", prefix, numLayers, input, initialHidden, bidirectional, gates: 3, OnnxGruGateOrder, [Int("linear_before_reset", 1)]);

    /// <summary>
    /// nn.RNN (<paramref name="numLayers"/> stacked layers, the Elman cell) on <paramref name="input"/> [T, B, In], from
    /// <paramref name="initialHidden"/> [L·D, B, H] (D = 2 when <paramref name="bidirectional"/>, else 1). Reads
    /// <c>{prefix}.weight_ih_l{k}</c> [H, In], <c>weight_hh_l{k}</c> [H, H], <c>bias_ih_l{k}</c> and
    /// <c>bias_hh_l{k}</c> [H] (and the same with <c>_reverse</c>), and emits one ONNX RNN node per layer whose
    /// activation (one per direction) is Relu when <paramref name="relu"/>, else Tanh.
    /// </summary>
    public RecurrentOutputs Rnn(string prefix, int numLayers, string input, string initialHidden, bool relu, bool bidirectional = false)
    {
        string activation = relu ? "Relu" : "Tanh";
        return HiddenStateLayers("RNN", prefix, numLayers, input, initialHidden, bidirectional, gates: 1, [0], [Strings("activations", bidirectional ? [activation, activation] : [activation])]);
    }

    // The stacked layers of a cell whose state is h alone (GRU, RNN): one ONNX node of the kind per layer, its W, R and B
    // in ONNX's gate order, with the attributes every recurrent node has and the cell's own.
    private RecurrentOutputs HiddenStateLayers(
        string kind, string prefix, int numLayers, string input, string initialHidden, bool bidirectional, int gates, int[] order, AttributeProto[] cellAttributes)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(numLayers);
        int directions = bidirectional ? 2 : 1;
        var finalHidden = new List<string>();
        string x = input;
        for (int k = 0; k < numLayers; k++)
        {
            var (w, r, b, hidden) = RecurrentLayer(prefix, kind, k, gates, order, directions);
            var h0 = SliceLayer(initialHidden, k, directions, $"{prefix}.l{k}.h0");
            var outputs = Outputs($"{prefix}.l{k}", "Y", "Y_h");
            Node(kind, $"{prefix}.l{k}", [x, w, r, b, "", h0], outputs, [.. RecurrentAttributes(hidden, bidirectional), .. cellAttributes]);
            x = LayerOutput(outputs[0], bidirectional, $"{prefix}.l{k}");
            finalHidden.Add(outputs[1]);
        }

        return new RecurrentOutputs(x, Concat(finalHidden, prefix + ".h_n"), null);
    }

    /// <summary>The model: this graph, the opset, and <paramref name="metadata"/> as the model's metadata_props, serialized.</summary>
    public byte[] ToModelBytes(IReadOnlyDictionary<string, string>? metadata = null, string docString = "")
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Tensorlet",
            ProducerVersion = ProducerVersion,
            DocString = docString ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        // Protobuf caps a message at 2 GiB; larger weights would need ONNX's external data, which is not written.
        long bytes = graph.Initializer.Sum(t => (long)t.FloatData.Count * sizeof(float) + t.Int64Data.Count * sizeof(long));
        if (bytes > MaxModelBytes)
        {
            throw new OnnxExportException(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"The model's weights take {bytes:N0} bytes; one ONNX file holds at most 2 GiB (protobuf's limit), and the export does not write ONNX's external data."));
        }

        return model.ToByteArray();
    }

    /// <summary>nn.GELU(approximate='none'): (x·0.5)·(erf(x/√2) + 1), as Div, Erf, Add and two Mul (0.5·x first, as the kernels).</summary>
    private string Gelu(string x, string name)
    {
        var erf = Node("Erf", name, [Node("Div", name, [x, FloatConstant((float)Math.Sqrt(2))])]);
        return Node("Mul", name, [Node("Mul", name, [x, FloatConstant(0.5f)]), Node("Add", name, [erf, FloatConstant(1f)])]);
    }

    /// <summary>
    /// nn.GELU(approximate='tanh'): (x·0.5)·(tanh(√(2/π)·(x + 0.044715·x³)) + 1), with x³ as two Mul (as PyTorch's
    /// exporter forms it; Pow would need opset 15 for its current definition), then Add, Tanh, Add and Mul.
    /// </summary>
    private string GeluTanh(string x, string name)
    {
        var cube = Node("Mul", name, [Node("Mul", name, [x, x]), x]);
        var inner = Node("Add", name, [x, Node("Mul", name, [cube, FloatConstant(0.044715f)])]);
        var tanh = Node("Tanh", name, [Node("Mul", name, [inner, FloatConstant((float)Math.Sqrt(2 / Math.PI))])]);
        return Node("Mul", name, [Node("Mul", name, [x, FloatConstant(0.5f)]), Node("Add", name, [tanh, FloatConstant(1f)])]);
    }

    // Below protobuf's 2 GiB by a margin for the graph's nodes, names and metadata.
    private const long MaxModelBytes = int.MaxValue - (64L << 20);

    // ONNX's gate blocks, each as the index of PyTorch's block it comes from.
    private static readonly int[] OnnxLstmGateOrder = [0, 3, 1, 2]; // i, o, f, c from PyTorch's i, f, g, o
    private static readonly int[] OnnxGruGateOrder = [1, 0, 2];      // z, r, h from PyTorch's r, z, n

    private static string ProducerVersion => typeof(OnnxGraphBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "";

    /// <summary>
    /// One recurrent layer's W [D, G·H, In], R [D, G·H, H] and B [D, 2·G·H] in ONNX's gate order, the forward
    /// direction's (<c>_l{k}</c>) first and, for D = 2, the reverse direction's (<c>_l{k}_reverse</c>); and H.
    /// </summary>
    private (string W, string R, string B, int Hidden) RecurrentLayer(string prefix, string kind, int k, int gates, int[] order, int directions)
    {
        string what = $"{kind} '{prefix}' layer {k}";
        var weights = new List<float>();
        var recurrent = new List<float>();
        var biases = new List<float>();
        int hidden = 0, input = 0;
        for (int d = 0; d < directions; d++)
        {
            string suffix = d == 1 ? $"l{k}_reverse" : $"l{k}";
            var wih = Parameter(prefix, what, $"{prefix}.weight_ih_{suffix}", rank: 2);
            var whh = Parameter(prefix, what, $"{prefix}.weight_hh_{suffix}", rank: 2);
            var bih = Parameter(prefix, what, $"{prefix}.bias_ih_{suffix}", rank: 1);
            var bhh = Parameter(prefix, what, $"{prefix}.bias_hh_{suffix}", rank: 1);
            if (wih.Shape[0] % gates != 0)
            {
                throw new OnnxExportException($"The {what} has '{prefix}.weight_ih_{suffix}' of shape {ShapeText(wih.Shape)}; its rows must be {gates}·H.");
            }

            if (d == 0)
            {
                (hidden, input) = (wih.Shape[0] / gates, wih.Shape[1]);
            }

            CheckShape(what, $"{prefix}.weight_ih_{suffix}", wih.Shape, [gates * hidden, input]);
            CheckShape(what, $"{prefix}.weight_hh_{suffix}", whh.Shape, [gates * hidden, hidden]);
            CheckShape(what, $"{prefix}.bias_ih_{suffix}", bih.Shape, [gates * hidden]);
            CheckShape(what, $"{prefix}.bias_hh_{suffix}", bhh.Shape, [gates * hidden]);
            weights.AddRange(ReorderGates(wih.Data, hidden, input, order));
            recurrent.AddRange(ReorderGates(whh.Data, hidden, hidden, order));
            biases.AddRange(ReorderGates(bih.Data, hidden, 1, order));
            biases.AddRange(ReorderGates(bhh.Data, hidden, 1, order));
        }

        return (
            Initializer($"{prefix}.l{k}.W", [directions, gates * hidden, input], [.. weights]),
            Initializer($"{prefix}.l{k}.R", [directions, gates * hidden, hidden], [.. recurrent]),
            Initializer($"{prefix}.l{k}.B", [directions, 2 * gates * hidden], [.. biases]),
            hidden);
    }

    private static AttributeProto[] RecurrentAttributes(int hidden, bool bidirectional)
        => bidirectional ? [Int("hidden_size", hidden), String("direction", "bidirectional")] : [Int("hidden_size", hidden)];

    // A recurrent node's Y [T, D, B, H] as the layer's output [T, B, D·H]: each step's forward h, then its reverse h.
    private string LayerOutput(string y, bool bidirectional, string layer)
        => bidirectional
            ? Node("Reshape", layer, [Node("Transpose", layer, [y], attributes: [Ints("perm", [0, 2, 1, 3])]), Int64Constant([0, 0, -1])])
            : Node("Squeeze", layer, [y, Int64Constant([1])]);

    /// <summary>Block j of the result is block order[j] of <paramref name="data"/>, each block H rows of <paramref name="columns"/>.</summary>
    private static float[] ReorderGates(float[] data, int hidden, int columns, int[] order)
    {
        int block = hidden * columns;
        var result = new float[data.Length];
        for (int j = 0; j < order.Length; j++)
        {
            Array.Copy(data, order[j] * block, result, j * block, block);
        }

        return result;
    }

    private (int[] Shape, float[] Data) LinearWeight(string prefix, string kind)
        => Parameter(prefix, $"{kind} '{prefix}'", prefix + ".weight", rank: 2);

    // The product plus {prefix}.bias, checked against the weight's rows; the product itself when the layer has no bias.
    private string AddLinearBias(string prefix, string kind, string product, (int[] Shape, float[] Data) weight, bool bias)
    {
        if (!bias)
        {
            return product;
        }

        string what = $"{kind} '{prefix}'";
        var values = Parameter(prefix, what, prefix + ".bias", rank: 1);
        CheckShape(what, prefix + ".bias", values.Shape, [weight.Shape[0]]);
        return Node("Add", prefix, [product, Initializer(prefix + ".bias", values.Shape, values.Data)]);
    }

    private (int[] Shape, float[] Data) Parameter(string prefix, string what, string name, int rank)
    {
        if (!stateDict.TryGetValue(name, out var p))
        {
            var near = stateDict.Keys.Where(k => k.StartsWith(prefix + ".", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            throw new OnnxExportException(
                $"The {what} needs the parameter '{name}', which the state_dict lacks" +
                (near.Count > 0 ? $"; under '{prefix}.' it has {string.Join(", ", near)}." : $"; it has nothing under '{prefix}.'."));
        }

        if (p.Shape.Length != rank || p.Data.Length != p.Shape.Aggregate(1L, (a, d) => a * d))
        {
            throw new OnnxExportException($"The {what} has '{name}' of shape {ShapeText(p.Shape)} with {p.Data.Length} values; it must have rank {rank} and one value per element.");
        }

        return p;
    }

    private static void CheckShape(string what, string name, int[] shape, int[] expected)
    {
        if (!shape.AsSpan().SequenceEqual(expected))
        {
            throw new OnnxExportException($"The {what} has '{name}' of shape {ShapeText(shape)}; it must be {ShapeText(expected)}.");
        }
    }

    private static string ShapeText(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    // Layer k's D entries [D, B, H] of states [L·D, B, H].
    private string SliceLayer(string states, int k, int directions, string name)
        => Node("Slice", name, [states, Int64Constant([k * directions]), Int64Constant([(k + 1) * directions]), Int64Constant([0])]);

    private string Concat(List<string> values, string name, int axis = 0) => Node("Concat", name, values, attributes: [Int("axis", axis)]);

    private string[] Outputs(string layer, params string[] suffixes) => [.. suffixes.Select(s => Fresh($"{layer}.{s}"))];

    /// <summary>Adds a node with one fresh output and returns that output's name.</summary>
    private string Node(string op, string layer, IReadOnlyList<string> inputs, IReadOnlyList<AttributeProto>? attributes = null)
    {
        var output = Fresh($"{layer}.{op}");
        Node(op, layer, inputs, [output], attributes);
        return output;
    }

    private void Node(string op, string layer, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<AttributeProto>? attributes = null)
    {
        var node = new NodeProto { OpType = op, Name = Fresh($"{layer}/{op}") };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        if (attributes is not null)
        {
            node.Attribute.AddRange(attributes);
        }

        graph.Node.Add(node);
    }

    /// <summary>A float initializer named after a parameter; the name must be new to the graph.</summary>
    private string Initializer(string name, int[] shape, float[] data) => AddTensor(Claim(name), shape, data);

    private string AddTensor(string name, int[] shape, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorDataType.Float };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        tensor.FloatData.AddRange(data);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float scalar constant, shared by every node that needs the same value.</summary>
    private string FloatConstant(float value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!constants.TryGetValue("float:" + text, out var name))
        {
            name = AddTensor(Fresh("const_" + text.Replace('-', 'm')), [], [value]);
            constants["float:" + text] = name;
        }

        return name;
    }

    /// <summary>An int64 constant [values.Length], shared by every node that needs the same values.</summary>
    private string Int64Constant(long[] values)
    {
        var key = "int64:" + string.Join(",", values);
        if (!constants.TryGetValue(key, out var name))
        {
            name = Fresh("const_" + string.Join("_", values).Replace('-', 'm'));
            var tensor = new TensorProto { Name = name, DataType = (int)TensorDataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            graph.Initializer.Add(tensor);
            constants[key] = name;
        }

        return name;
    }

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    // A pooling's ceil_mode: 1 when asked, else no attribute (ONNX's default, 0).
    private static AttributeProto[] CeilMode(bool ceilMode) => ceilMode ? [Int("ceil_mode", 1)] : [];

    private static AttributeProto String(string name, string value)
        => new() { Name = name, Type = AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    private static AttributeProto Strings(string name, string[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(Google.Protobuf.ByteString.CopyFromUtf8));
        return attribute;
    }

    private static AttributeProto Ints(string name, long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, OnnxElementType type, OnnxDimension[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
        {
            tensorShape.Dim.Add(d.Symbol is { } symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = d.Size });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    /// <summary>Reserves a name the caller chose, failing if the graph already has it.</summary>
    private string Claim(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!names.Add(name))
        {
            throw new OnnxExportException($"The graph already has a value named '{name}'; each layer needs its own name.");
        }

        return name;
    }

    /// <summary>A name not yet in the graph: <paramref name="hint"/>, or <paramref name="hint"/> with a number.</summary>
    private string Fresh(string hint)
    {
        if (names.Add(hint))
        {
            return hint;
        }

        for (int i = 1; ; i++)
        {
            var name = hint + "_" + i.ToString(CultureInfo.InvariantCulture);
            if (names.Add(name))
            {
                return name;
            }
        }
    }
}
