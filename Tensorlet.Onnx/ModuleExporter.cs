using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Onnx;

/// <summary>
/// Exports a model made of the library's modules to one ONNX graph (opset <see cref="CharModelExporter.Opset"/>):
/// a <see cref="Sequential"/>'s children in order (nested ones too), each through the graph builder's method for its
/// kind, reading its parameters under its state_dict prefix. <see cref="Embedding"/> is a Gather,
/// <see cref="Linear"/> a MatMul and Add (a Gather on token ids), <see cref="LayerNorm"/> its composition of
/// ReduceMean, Sub, Mul, Add, Sqrt and Div (LayerNormalization needs opset 17), <see cref="BatchNorm1d"/> and
/// <see cref="BatchNorm2d"/> a BatchNormalization with its running statistics (their evaluation mode), <see cref="Conv1d"/> a Conv (its groups the
/// Conv's <c>group</c>; a padding mode other than zeros a Pad before it, or for circular two Slices concatenated
/// around the input, as PyTorch's exporter writes them), <see cref="Conv2d"/> a Conv of 2-d kernel_shape, strides, pads
/// and dilations (its groups the Conv's <c>group</c>),
/// <see cref="Nn.Flatten"/> a Flatten on axis 1, <see cref="Nn.Permute"/> a Transpose by its dims, <see cref="MaxPool1d"/>
/// and <see cref="MaxPool2d"/> a MaxPool, <see cref="AvgPool1d"/> and <see cref="AvgPool2d"/> an AveragePool (ceil_mode 1
/// for any made with ceilMode), <see cref="AdaptiveMaxPool1d"/>, <see cref="AdaptiveAvgPool1d"/>,
/// <see cref="AdaptiveMaxPool2d"/> and <see cref="AdaptiveAvgPool2d"/> of output size 1 (on both axes) a GlobalMaxPool or
/// GlobalAveragePool (ONNX has no adaptive pooling of another size),
/// <see cref="Relu"/>, <see cref="Tanh"/> and <see cref="Sigmoid"/> their operators, <see cref="LeakyRelu"/> a LeakyRelu
/// with its slope as alpha, <see cref="Gelu"/> its composition (Div, Erf, Add and Mul, or for its tanh form Mul, Add and
/// Tanh), <see cref="Silu"/> a Sigmoid then a Mul, <see cref="Softmax"/> and <see cref="LogSoftmax"/> their operators on axis −1,
/// <see cref="Dropout"/> the identity, <see cref="Nn.Slice"/> a Slice on its dim,
/// <see cref="Nn.Lstm"/>, <see cref="Nn.Gru"/> and <see cref="Nn.Rnn"/> one ONNX LSTM, GRU or RNN node (activation Tanh or
/// Relu) per layer (on token ids, after a OneHot), with a Transpose before and after when the module is batch-first.
/// <para>
/// The graph's input is <c>input</c>: int64 token ids [T, B] ([B, T] when the first recurrent module is batch-first,
/// [N, L] when the model has a Conv1d or a pooling and no recurrent module, [L, N] when its first Permute is (1, 2, 0)) when the first module takes them (see the tokenIds
/// parameter), otherwise float, its rank decided by the first <see cref="Conv1d"/>, <see cref="Conv2d"/>, pooling,
/// <see cref="BatchNorm2d"/>, <see cref="Nn.Permute"/>, recurrent module or <see cref="Nn.Flatten"/> (the modules before it
/// keep the rank they are given): [N, C, L] for a Conv1d or a 1-d pooling (L fixed by a Linear or LayerNorm before it,
/// else free), [N, C, H, W] for a Conv2d, a 2-d pooling or a BatchNorm2d (W fixed as L is, H free; a model with both a
/// 2-d module and a Conv1d or 1-d pooling has no input shape they all take, and is refused),
/// one dimension per dim for a Permute
/// ([N, D1, ..., In], the last fixed by a Linear or LayerNorm before it, else free), [T, B, In] for a recurrent module
/// ([B, T, In] batch-first), and [N, In] when the model has none of them; a Flatten there takes any rank from 2 on, so
/// the export is refused. Its output is <c>output</c>. Every
/// recurrent module adds the inputs <c>{prefix}.h0</c> and (LSTM) <c>{prefix}.c0</c> [L, B, H] ([2·L, B, H] when it is
/// bidirectional: ONNX's direction="bidirectional", its output [T, 2, B, H] transposed and reshaped to [T, B, 2H]) and the outputs
/// <c>{prefix}.hn</c> and (LSTM) <c>{prefix}.cn</c> (just <c>h0</c>, <c>c0</c>, <c>hn</c>, <c>cn</c> when the model is the
/// recurrent module itself): feed hn and cn back as h0 and c0 to go on where a call stopped, as the module's
/// <see cref="Nn.RnnBase.CarryState"/> does.
/// </para>
/// </summary>
public static class ModuleExporter
{
    /// <summary>Exports a built <paramref name="model"/>, its parameters read from the device; the graph is what its evaluation mode computes.</summary>
    /// <param name="model">The model, built.</param>
    /// <param name="tokenIds">
    /// Whether the input is int64 token ids: null (the default) for ids exactly when the first module is an
    /// <see cref="Embedding"/>; true for a first <see cref="Linear"/>, <see cref="Nn.Lstm"/>, <see cref="Nn.Gru"/> or <see cref="Nn.Rnn"/> on one-hot input given as ids.
    /// </param>
    /// <param name="graphName">The graph's name.</param>
    /// <exception cref="OnnxExportException">
    /// The model is not built or is a child module, a module has no ONNX export (the message names its type and
    /// state_dict prefix), takes input of the other kind than it is given or of another width (a Linear, LayerNorm,
    /// BatchNorm1d, BatchNorm2d, Lstm, Gru or Rnn whose input features differ from the value before it), a Permute's dims are not as many as
    /// the dimensions of the value before it, a Flatten comes before any Conv1d, Conv2d, BatchNorm2d, pooling, Permute or
    /// recurrent module (the input's rank cannot be known), a Conv2d, 2-d pooling or BatchNorm2d is in a model with a
    /// Conv1d or a 1-d pooling (no input rank fits both), a BatchNorm1d or BatchNorm2d has no running statistics, a Conv1d,
    /// Conv2d, sliding pooling's window, or a Conv1d's reflect or circular padding, does not fit the input size fixed
    /// before it, an adaptive pooling has an output size other than 1, or the weights exceed one file's 2 GiB.
    /// </exception>
    public static byte[] Export(Module model, bool? tokenIds = null, string graphName = "tensorlet")
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt)
        {
            throw new OnnxExportException($"The {model.GetType().Name} has not been built: build it (model.Build(device, seed)) and load its weights before exporting it.");
        }

        Dictionary<string, (int[] Shape, float[] Data)> stateDict;
        try
        {
            stateDict = model.StateDict();
        }
        catch (InvalidOperationException e)
        {
            // A child module: its parameters are its root's.
            throw new OnnxExportException($"The {model.GetType().Name} cannot be exported on its own: {e.Message} Export the root module.", e);
        }

        // The builder reads parameters as "{prefix}.name"; a model that is one leaf module has the empty prefix,
        // so its parameters are read under its type's name.
        string rootPrefix = "";
        if (model is not Sequential)
        {
            rootPrefix = model.GetType().Name.ToLowerInvariant();
            stateDict = stateDict.ToDictionary(p => rootPrefix + "." + p.Key, p => p.Value, StringComparer.Ordinal);
        }

        var builder = new OnnxGraphBuilder(stateDict, graphName);
        bool indices = tokenIds ?? First(model) is Embedding;
        var firstRecurrent = Leaves(model).Select(l => l.Module).OfType<RnnBase>().FirstOrDefault();
        var walk = new Walk(builder, model is Sequential ? null : rootPrefix);
        OnnxDimension[] sequence = firstRecurrent is { BatchFirst: true } ? ["B", "T"]
            : firstRecurrent is null && Leaves(model).Any(l => l.Module is Conv1d or Pool1dModule) ? IdsBeforeConvolution(model)
            : ["T", "B"];
        OnnxDimension[] inputShape = indices ? sequence : FloatInputShape(model, sequence);
        Value input = new(builder.Input("input", indices ? OnnxElementType.Int64 : OnnxElementType.Float, inputShape), indices, inputShape);
        var output = walk.Visit(model, model is Sequential ? "" : rootPrefix, input);
        if (output.Indices)
        {
            throw new OnnxExportException("The model returns its token ids unchanged; there is nothing to export.");
        }

        builder.Output(output.Name, "output", OnnxElementType.Float, [.. output.Shape]);
        foreach (var (value, name, shape) in walk.StateOutputs)
        {
            builder.Output(value, name, OnnxElementType.Float, shape);
        }

        return builder.ToModelBytes(docString: $"Tensorlet {model.GetType().Name}. Input: input {(indices ? "int64 token ids" : "float")} [{string.Join(", ", input.Shape)}]; output: output [{string.Join(", ", output.Shape)}].");
    }

    /// <summary>A graph value, whether it holds token ids, and its shape.</summary>
    private sealed record Value(string Name, bool Indices, IReadOnlyList<OnnxDimension> Shape)
    {
        public Value With(string name, params OnnxDimension[] shape) => new(name, false, shape);
    }

    private static Module First(Module module) => module is Sequential s ? First(s[0]) : module;

    // The leaf modules in order, each with its state_dict prefix ("" for a model that is one leaf).
    private static IEnumerable<(string Prefix, Module Module)> Leaves(Module module, string prefix = "")
        => module is Sequential s
            ? s.Children.SelectMany(c => Leaves(c.Value, prefix.Length == 0 ? c.Key : $"{prefix}.{c.Key}"))
            : [(prefix, module)];

    // The first module that fixes the input's width: the modules before it (activations, dropout, slices) keep the
    // width, so the declared input is as wide as that module takes; null when there is none.
    private static Module? FirstWithWidth(Module model)
        => Leaves(model).Select(l => l.Module).FirstOrDefault(module => module is not (ActivationModule or SoftmaxModule or Dropout or Nn.Slice));

    // Token ids that a convolution or pooling reads, after an Embedding and a Permute that puts their batch first: [N, L]
    // for Permute(0, 2, 1), [L, N] for Permute(1, 2, 0) (time-major ids), so that the output's first dimension is N.
    private static OnnxDimension[] IdsBeforeConvolution(Module model)
        => Leaves(model).Select(l => l.Module).OfType<Nn.Permute>().FirstOrDefault() is { Dims: [1, ..] } ? ["L", "N"] : ["N", "L"];

    // A float input's shape, from the first module that decides its rank: a Conv1d or a 1-d pooling takes [N, C, L], a
    // Conv2d, a 2-d pooling or a BatchNorm2d [N, C, H, W], a Permute one dimension per dim and a recurrent module a
    // sequence, while the modules before it (Linear, LayerNorm, BatchNorm1d, activations, dropout, slices) keep the rank
    // they are given. With none, the input is rows [N, In]; a Flatten first takes any rank from 2 on, so the graph could
    // declare none that every input the model runs on has.
    private static OnnxDimension[] FloatInputShape(Module model, OnnxDimension[] sequence)
    {
        var (prefix, decider) = Leaves(model).FirstOrDefault(l => l.Module is Conv1d or Conv2d or PoolModule or BatchNorm2d or Nn.Permute or RnnBase or Nn.Flatten);
        switch (decider)
        {
            case Conv2d or Pool2dModule or BatchNorm2d:
                // No module of the library takes [N, C, H, W] to the [N, C, L] a Conv1d or a 1-d pooling reads, so none
                // may follow it; H is free, W fixed as a Conv1d's L is.
                RefuseMixedRanks(model);
                return ["N", Channels(model, decider), "H", LastWidthBefore(model, decider, "W")];
            case Conv1d or Pool1dModule:
                RefuseMixedRanks(model);
                return ["N", Channels(model, decider), LastWidthBefore(model, decider, "L")];
            case Nn.Permute permute:
                // One dimension per dim: the last fixed as a Conv1d's L is, the others free.
                int rank = permute.Dims.Count;
                return [.. Enumerable.Range(0, rank - 1).Select(d => (OnnxDimension)(d == 0 ? "N" : $"D{d}")), LastWidthBefore(model, decider, rank == 1 ? "N" : $"D{rank - 1}")];
            case RnnBase:
                return [.. sequence, InputWidth(model)];
            case Nn.Flatten:
                throw new OnnxExportException(
                    $"The Flatten at '{(prefix.Length == 0 ? "(root)" : prefix)}' comes before any Conv1d, Conv2d, BatchNorm2d, 1-d or 2-d pooling, Permute, Lstm, Gru or Rnn, so the model's input rank cannot be known (Flatten takes any rank from 2 on); put the Flatten after the module that fixes the rank, or flatten the input before the model.");
            default:
                return ["N", InputWidth(model)];
        }
    }

    // A Conv2d, a 2-d pooling or a BatchNorm2d takes [N, C, H, W] and a Conv1d or a 1-d pooling [N, C, L], and no module
    // between them changes the rank, so a model with both has no input shape for which the graph and the module both run.
    // A Flatten between them does change it: the walk then refuses the second one for the rank it is given.
    private static void RefuseMixedRanks(Module model)
    {
        var leaves = Leaves(model).ToList();
        int twoAxes = leaves.FindIndex(l => l.Module is Conv2d or Pool2dModule or BatchNorm2d);
        int oneAxis = leaves.FindIndex(l => l.Module is Conv1d or Pool1dModule);
        if (twoAxes >= 0 && oneAxis >= 0
            && !leaves.Skip(Math.Min(twoAxes, oneAxis)).Take(Math.Abs(twoAxes - oneAxis)).Any(l => l.Module is Nn.Flatten))
        {
            throw new OnnxExportException(
                $"The {leaves[twoAxes].Module.GetType().Name} at '{At(leaves[twoAxes].Prefix)}' takes [N, C, H, W] and the {leaves[oneAxis].Module.GetType().Name} at '{At(leaves[oneAxis].Prefix)}' [N, C, L], and no module between them changes the rank, so the model has no input shape the export can declare; export the two parts as separate models.");
        }
    }

    // The input's channels as the first BatchNorm1d, BatchNorm2d, Conv1d or Conv2d up to the module that decides the
    // rank reads them; free when a pooling comes first, which takes any channels.
    private static OnnxDimension Channels(Module model, Module decider)
        => Leaves(model).Select(l => l.Module).TakeWhile(m => !ReferenceEquals(m, decider)).Append(decider).FirstOrDefault(m => m is BatchNormModule or Conv1d or Conv2d) switch
        {
            BatchNormModule b => b.NumFeatures,
            Conv1d c => c.InChannels,
            Conv2d c => c.InChannels,
            _ => "C",
        };

    private static string At(string prefix) => prefix.Length == 0 ? "(root)" : prefix;

    // The input's last dimension as a Linear or LayerNorm before the module that decides the rank reads it; free without one.
    private static OnnxDimension LastWidthBefore(Module model, Module decider, OnnxDimension free)
        => Leaves(model).Select(l => l.Module).TakeWhile(m => !ReferenceEquals(m, decider)).FirstOrDefault(m => m is Linear or LayerNorm) switch
        {
            Linear l => l.InFeatures,
            LayerNorm n => n.NormalizedShape,
            _ => free,
        };

    // That module's input width; a module of another kind first leaves it free.
    private static OnnxDimension InputWidth(Module model) => FirstWithWidth(model) switch
    {
        Linear l => l.InFeatures,
        LayerNorm n => n.NormalizedShape,
        BatchNorm1d b => b.NumFeatures,
        Nn.Lstm l => l.InputSize,
        Nn.Gru g => g.InputSize,
        Nn.Rnn r => r.InputSize,
        _ => "In",
    };

    private sealed class Walk(OnnxGraphBuilder builder, string? rootStateName)
    {
        public List<(string Value, string Name, OnnxDimension[] Shape)> StateOutputs { get; } = [];

        public Value Visit(Module module, string prefix, Value x)
        {
            string name = prefix.Length == 0 ? module.GetType().Name : prefix;
            switch (module)
            {
                case Sequential sequential:
                    for (int i = 0; i < sequential.Count; i++)
                    {
                        var (childName, child) = sequential.Children[i];
                        x = Visit(child, prefix.Length == 0 ? childName : $"{prefix}.{childName}", x);
                    }

                    return x;
                case Embedding:
                    Expect(module, prefix, x, indices: true);
                    return x.With(builder.Embedding(prefix, x.Name), [.. x.Shape, ((Embedding)module).EmbeddingDim]);
                case Linear linear:
                    ExpectWidth(module, prefix, x, linear.InFeatures);
                    return x.Indices
                        ? x.With(builder.OneHotLinear(prefix, x.Name, linear.Bias is not null), [.. x.Shape, linear.OutFeatures])
                        : x.With(builder.Linear(prefix, x.Name, linear.Bias is not null), [.. x.Shape.SkipLast(1), linear.OutFeatures]);
                case LayerNorm layerNorm:
                    Expect(module, prefix, x, indices: false);
                    ExpectWidth(module, prefix, x, layerNorm.NormalizedShape);
                    return x.With(builder.LayerNorm(prefix, x.Name, layerNorm.Epsilon, layerNorm.Weight is not null, layerNorm.Bias is not null), [.. x.Shape]);
                case BatchNormModule batchNorm:
                    return BatchNorm(batchNorm, prefix, x);
                case Conv1d conv:
                    return Conv(conv, prefix, x);
                case Conv2d conv2d:
                    return Conv(conv2d, prefix, x);
                case Nn.Flatten:
                    return Flatten(module, prefix, name, x);
                case PoolModule pool:
                    return Pool(pool, prefix, name, x);
                case Nn.Permute permute:
                    return Permute(permute, prefix, name, x);
                case ActivationModule activation:
                    Expect(module, prefix, x, indices: false);
                    return x.With(builder.Activation(activation.Function, x.Name, name, (activation as LeakyRelu)?.NegativeSlope ?? OnnxGraphBuilder.DefaultNegativeSlope), [.. x.Shape]);
                case SoftmaxModule:
                    Expect(module, prefix, x, indices: false);
                    return x.With(builder.Softmax(x.Name, module is LogSoftmax, name), [.. x.Shape]);
                case Dropout:
                    Expect(module, prefix, x, indices: false);
                    return x.With(builder.Dropout(x.Name, name), [.. x.Shape]);
                case Nn.Slice slice:
                    Expect(module, prefix, x, indices: false);
                    return Slice(slice, prefix, name, x);
                case Nn.Lstm lstm:
                    return Recurrent(prefix, x, lstm, lstm: true);
                case Nn.Gru gru:
                    return Recurrent(prefix, x, gru, lstm: false);
                case Nn.Rnn rnn:
                    return Recurrent(prefix, x, rnn, lstm: false);
                default:
                    throw new OnnxExportException(
                        $"The module {module.GetType().FullName} at '{(prefix.Length == 0 ? "(root)" : prefix)}' has no ONNX export; " +
                        "Sequential, Embedding, Linear, Conv1d, Conv2d, Flatten, Permute, MaxPool1d, AvgPool1d, MaxPool2d, AvgPool2d, AdaptiveMaxPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool2d and AdaptiveAvgPool2d (output size 1), LayerNorm, BatchNorm1d, BatchNorm2d, Relu, Tanh, Sigmoid, Gelu, Silu, LeakyRelu, Softmax, LogSoftmax, Dropout, Slice, Lstm, Gru and Rnn do.");
            }
        }

        // The inference form, which reads the running statistics: a layer without them normalizes each batch by its own
        // statistics even in evaluation, which that form cannot.
        // BatchNorm1d takes [N, C] or [N, C, L], BatchNorm2d [N, C, H, W].
        private Value BatchNorm(BatchNormModule module, string prefix, Value x)
        {
            string layer = module.GetType().Name;
            Expect(module, prefix, x, indices: false);
            if (!module.TrackRunningStats)
            {
                throw new OnnxExportException(
                    $"The {layer} '{prefix}' has no running statistics (trackRunningStats: false), so it normalizes every batch by its own; the export is the inference form, which needs them.");
            }

            bool spatial = module is BatchNorm2d;
            if (spatial ? x.Shape.Count != 4 : x.Shape.Count is not (2 or 3))
            {
                throw new OnnxExportException($"The {layer} '{prefix}' takes {(spatial ? "[N, C, H, W]" : "[N, C] or [N, C, L]")}; the value before it has rank {x.Shape.Count}.");
            }

            ExpectWidth(module, prefix, x, module.NumFeatures, channels: true);

            return x.With(builder.BatchNorm(prefix, x.Name, module.NumFeatures, module.Epsilon, module.Affine, layer), [.. x.Shape]);
        }

        // [N, C_in, L] → [N, C_out, L_out]; L_out is fixed where L is, else a symbol of its own.
        private Value Conv(Conv1d module, string prefix, Value x)
        {
            Expect(module, prefix, x, indices: false);
            if (x.Shape.Count != 3)
            {
                throw new OnnxExportException($"The Conv1d '{prefix}' takes [N, C, L]; the value before it has rank {x.Shape.Count}.");
            }

            ExpectWidth(module, prefix, x, module.InChannels, channels: true);
            var length = x.Shape[2];

            // A length fixed too short for the mode's padding is refused as the module's Forward refuses it: ONNX
            // Runtime's reflect Pad raises an error on it, and circular padding's Slices would return fewer positions
            // than the padding, so the graph would compute another length.
            if (length.Symbol is null && ModePadding.Unfit(module.PaddingMode, module.PaddingLeft, module.PaddingRight, (int)length.Size) is { } unfit)
            {
                throw new OnnxExportException($"The Conv1d at '{(prefix.Length == 0 ? "(root)" : prefix)}' {unfit}, but the length there is fixed at {length.Size}.");
            }

            OnnxDimension outLength = length.Symbol is null
                ? FixedOutputLength(module, prefix, "length", length.Size, Conv1dGeometry.OutputLengthOf((int)length.Size, module.KernelSize, module.Stride, module.PaddingLeft, module.PaddingRight, module.Dilation), MinimumLength(module.KernelSize, module.Stride, (long)module.PaddingLeft + module.PaddingRight, module.Dilation, ceilMode: false))
                : $"{prefix}.L_out";

            // Another mode pads first, as PyTorch's exporter does, then convolves without padding; a layer with no
            // padding is a plain Conv whatever its mode.
            if (module.PaddingMode == PaddingMode.Zeros || module.PaddingLeft + module.PaddingRight == 0)
            {
                return x.With(builder.Conv1d(prefix, x.Name, module.Stride, module.PaddingLeft, module.PaddingRight, module.Dilation, module.Bias is not null, module.Groups), x.Shape[0], module.OutChannels, outLength);
            }

            string padded = builder.Pad1d(prefix, x.Name, module.PaddingLeft, module.PaddingRight, module.PaddingMode);
            return x.With(builder.Conv1d(prefix, padded, module.Stride, 0, 0, module.Dilation, module.Bias is not null, module.Groups), x.Shape[0], module.OutChannels, outLength);
        }

        // [N, C_in, H, W] → [N, C_out, H_out, W_out]; each of H_out and W_out is fixed where its input size is, else a
        // symbol of its own.
        private Value Conv(Conv2d module, string prefix, Value x)
        {
            Expect(module, prefix, x, indices: false);
            if (x.Shape.Count != 4)
            {
                throw new OnnxExportException($"The Conv2d '{prefix}' takes [N, C, H, W]; the value before it has rank {x.Shape.Count}.");
            }

            ExpectWidth(module, prefix, x, module.InChannels, channels: true);
            var (height, width) = (x.Shape[2], x.Shape[3]);
            OnnxDimension outHeight = height.Symbol is null
                ? FixedOutputLength(module, prefix, "height", height.Size, Conv1dGeometry.OutputLengthOf((int)height.Size, module.KernelSize.Height, module.Stride.Height, module.PaddingTop, module.PaddingBottom, module.Dilation.Height), MinimumLength(module.KernelSize.Height, module.Stride.Height, (long)module.PaddingTop + module.PaddingBottom, module.Dilation.Height, ceilMode: false))
                : $"{prefix}.H_out";
            OnnxDimension outWidth = width.Symbol is null
                ? FixedOutputLength(module, prefix, "width", width.Size, Conv1dGeometry.OutputLengthOf((int)width.Size, module.KernelSize.Width, module.Stride.Width, module.PaddingLeft, module.PaddingRight, module.Dilation.Width), MinimumLength(module.KernelSize.Width, module.Stride.Width, (long)module.PaddingLeft + module.PaddingRight, module.Dilation.Width, ceilMode: false))
                : $"{prefix}.W_out";
            string conv = builder.Conv2d(prefix, x.Name, module.Stride, module.PaddingTop, module.PaddingBottom, module.PaddingLeft, module.PaddingRight, module.Dilation, module.Bias is not null, module.Groups);
            return x.With(conv, x.Shape[0], module.OutChannels, outHeight, outWidth);
        }

        // [N, C, L] → [N, C, L_out] (a 1-d pooling) or [N, C, H, W] → [N, C, H_out, W_out] (a 2-d one); each output
        // size is fixed where its input size is, else a symbol of its own. ONNX's poolings are sliding windows (MaxPool,
        // AveragePool) or global ones: an adaptive pooling is one only at output size 1.
        private Value Pool(PoolModule module, string prefix, string name, Value x)
        {
            Expect(module, prefix, x, indices: false);
            string at = prefix.Length == 0 ? "(root)" : prefix;
            bool twoAxes = module is Pool2dModule;
            if (x.Shape.Count != (twoAxes ? 4 : 3))
            {
                throw new OnnxExportException($"The {module.GetType().Name} at '{at}' takes {(twoAxes ? "[N, C, H, W]" : "[N, C, L]")}; the value before it has rank {x.Shape.Count}.");
            }

            string? adaptiveSize = module switch
            {
                AdaptivePool1dModule { OutputSize: > 1 } a => a.OutputSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                AdaptivePool2dModule a when a.OutputSize != 1 => a.OutputSize.ToString(),
                _ => null,
            };
            if (adaptiveSize is not null)
            {
                throw new OnnxExportException(
                    $"The {module.GetType().Name} at '{at}' has output size {adaptiveSize}; ONNX has no adaptive pooling, only the global one (output size 1).");
            }

            // The output size along the input's dimension `dim`, of the window there.
            OnnxDimension Pooled(int dim, string symbol, Func<int, int> outputLength, int kernelSize, int stride, int padding, int dilation, bool ceilMode)
            {
                var length = x.Shape[dim];
                return length.Symbol is null && !DropsAWindow(length.Size, outputLength, kernelSize, stride, padding, dilation, ceilMode)
                    ? FixedOutputLength(module, prefix, symbol switch { "H_out" => "height", "W_out" => "width", _ => "length" }, length.Size, outputLength((int)length.Size), MinimumLength(kernelSize, stride, 2L * padding, dilation, ceilMode))
                    : $"{name}.{symbol}";
            }

            return module switch
            {
                MaxPool1d m => x.With(builder.MaxPool1d(x.Name, m.KernelSize, m.Stride, m.Padding, m.Dilation, m.CeilMode, name), x.Shape[0], x.Shape[1], Pooled(2, "L_out", m.OutputLength, m.KernelSize, m.Stride, m.Padding, m.Dilation, m.CeilMode)),
                AvgPool1d a => x.With(builder.AvgPool1d(x.Name, a.KernelSize, a.Stride, a.Padding, a.CountIncludePad, a.CeilMode, name), x.Shape[0], x.Shape[1], Pooled(2, "L_out", a.OutputLength, a.KernelSize, a.Stride, a.Padding, 1, a.CeilMode)),
                MaxPool2d m => x.With(
                    builder.MaxPool2d(x.Name, m.KernelSize, m.Stride, m.Padding, m.Dilation, m.CeilMode, name),
                    x.Shape[0],
                    x.Shape[1],
                    Pooled(2, "H_out", h => m.OutputSize(h, 1).Height, m.KernelSize.Height, m.Stride.Height, m.Padding.Height, m.Dilation.Height, m.CeilMode),
                    Pooled(3, "W_out", w => m.OutputSize(1, w).Width, m.KernelSize.Width, m.Stride.Width, m.Padding.Width, m.Dilation.Width, m.CeilMode)),
                AvgPool2d a => x.With(
                    builder.AvgPool2d(x.Name, a.KernelSize, a.Stride, a.Padding, a.CountIncludePad, a.CeilMode, name),
                    x.Shape[0],
                    x.Shape[1],
                    Pooled(2, "H_out", h => a.OutputSize(h, 1).Height, a.KernelSize.Height, a.Stride.Height, a.Padding.Height, 1, a.CeilMode),
                    Pooled(3, "W_out", w => a.OutputSize(1, w).Width, a.KernelSize.Width, a.Stride.Width, a.Padding.Width, 1, a.CeilMode)),
                _ => x.With(builder.GlobalPool(x.Name, max: module is AdaptiveMaxPool1d or AdaptiveMaxPool2d, name), [x.Shape[0], x.Shape[1], .. x.Shape.Skip(2).Select(_ => (OnnxDimension)1)]),
            };
        }

        // A sliding window's L_out (or H_out, W_out) where its input size is fixed (by a Linear or LayerNorm before the
        // input's first Conv1d, Conv2d, pooling or BatchNorm2d, then by each window or global pooling): a window that does not fit would declare a dimension of 0, which ONNX's checker refuses,
        // on an input the module's Forward refuses too.
        // A padding near int.MaxValue / 2 can make it more than an int, which no dimension holds.
        // The axis is "length", "height" or "width", as the module's Forward names it.
        private static int FixedOutputLength(Module module, string prefix, string axis, long length, long outLength, long minimumLength)
            => outLength < 1
                ? throw new OnnxExportException(
                    $"The {module.GetType().Name} at '{(prefix.Length == 0 ? "(root)" : prefix)}' needs an input {axis} of at least {minimumLength}, but the {axis} there is fixed at {length}.")
                : outLength > int.MaxValue
                    ? throw new OnnxExportException(
                        $"The {module.GetType().Name} at '{(prefix.Length == 0 ? "(root)" : prefix)}' gives an output {axis} of {outLength} from the {axis} {length} fixed there, more than int.MaxValue.")
                    : (int)outLength;

        // Whether ceil mode drops, at fixed length L, a last window that would start in the right padding (PyTorch's
        // rule, and ONNX's shape inference from 1.16 on). Earlier checkers infer the undropped length and refuse a
        // graph that declares the dropped one, so such an output's length is declared as a symbol.
        private static bool DropsAWindow(long length, Func<int, int> outputLength, int kernelSize, int stride, int padding, int dilation, bool ceilMode)
        {
            if (!ceilMode)
            {
                return false;
            }

            long span = length + (2L * padding) - ((long)dilation * (kernelSize - 1)) - 1;
            long undropped = (long)Math.Ceiling((double)span / stride) + 1;
            int dropped = outputLength((int)length);
            return dropped >= 1 && dropped < undropped;
        }

        // The shortest L that gives a sliding window one output: L + padding − dilation·(k − 1) − 1 at least 0, or at
        // least 1 − stride in ceil mode, where the window may run past the end (the modules' own refusal says the same);
        // `padding` is both sides' together.
        private static long MinimumLength(int kernelSize, int stride, long padding, int dilation, bool ceilMode)
            => ((long)dilation * (kernelSize - 1)) + 1 - padding - (ceilMode ? stride - 1 : 0);

        // [N, d1, d2, ...] → [N, d1·d2·...]; the product is fixed where every factor is, else a symbol of its own.
        private Value Flatten(Module module, string prefix, string name, Value x)
        {
            Expect(module, prefix, x, indices: false);
            if (x.Shape.Count < 2)
            {
                throw new OnnxExportException($"The Flatten '{prefix}' takes [N, ...]; the value before it has rank {x.Shape.Count}.");
            }

            var rest = x.Shape.Skip(1).ToList();
            OnnxDimension features = rest.All(d => d.Symbol is null) ? OnnxDimension.Fixed(rest.Aggregate(1L, (a, d) => a * d.Size)) : $"{name}.features";
            return x.With(builder.Flatten(x.Name, name), x.Shape[0], features);
        }

        // Output axis i is input axis Dims[i], its dimension, fixed or symbolic, moved with it.
        private Value Permute(Nn.Permute permute, string prefix, string name, Value x)
        {
            Expect(permute, prefix, x, indices: false);
            var dims = permute.Dims;
            if (x.Shape.Count != dims.Count)
            {
                throw new OnnxExportException($"The Permute '{prefix}' permutes {dims.Count} dimensions; the value before it has rank {x.Shape.Count}.");
            }

            return x.With(builder.Transpose(x.Name, [.. dims.Select(d => (long)d)], name), [.. dims.Select(d => x.Shape[d])]);
        }

        // The ONNX recurrent nodes run time-major ([T, B, In] → [T, B, D·H]); a batch-first module's [B, T] ids or
        // [B, T, In] input is transposed on the way in and its output back to [B, T, D·H]. The states are [L·D, B, H]
        // either way (D = 2 for a bidirectional module).
        private Value Recurrent(string prefix, Value x, RnnBase module, bool lstm)
        {
            string kind = module.GetType().Name;
            var (hidden, batchFirst, bidirectional) = (module.HiddenSize, module.BatchFirst, module.Bidirectional);
            int layers = module.NumLayers * (bidirectional ? 2 : 1);
            int width = bidirectional ? 2 * hidden : hidden;
            if (!x.Indices && x.Shape.Count != 3)
            {
                throw new OnnxExportException($"The {kind} '{prefix}' takes {(batchFirst ? "[B, T, In]" : "[T, B, In]")}; the value before it has rank {x.Shape.Count}.");
            }

            ExpectWidth(module, prefix, x, module.InputSize);

            string input;
            if (x.Indices)
            {
                var ids = batchFirst ? builder.Transpose(x.Name, [1, 0], prefix + ".time_major") : x.Name;
                input = builder.OneHot(ids, module.InputSize, prefix + ".one_hot");
            }
            else
            {
                input = batchFirst ? builder.Transpose(x.Name, [1, 0, 2], prefix + ".time_major") : x.Name;
            }

            var (steps, batch) = batchFirst ? (x.Shape[1], x.Shape[0]) : (x.Shape[0], x.Shape[1]);
            var h0 = builder.Input(StateName(prefix, "h0"), OnnxElementType.Float, layers, batch, hidden);
            var outputs = module switch
            {
                Nn.Rnn rnn => builder.Rnn(prefix, module.NumLayers, input, h0, rnn.Nonlinearity == Nn.RnnNonlinearity.Relu, bidirectional),
                _ when lstm => builder.Lstm(prefix, module.NumLayers, input, h0, builder.Input(StateName(prefix, "c0"), OnnxElementType.Float, layers, batch, hidden), bidirectional),
                _ => builder.Gru(prefix, module.NumLayers, input, h0, bidirectional),
            };
            StateOutputs.Add((outputs.FinalHidden, StateName(prefix, "hn"), [layers, batch, hidden]));
            if (outputs.FinalCell is { } finalCell)
            {
                StateOutputs.Add((finalCell, StateName(prefix, "cn"), [layers, batch, hidden]));
            }

            return batchFirst
                ? x.With(builder.Transpose(outputs.Output, [1, 0, 2], prefix + ".batch_first"), batch, steps, width)
                : x.With(outputs.Output, steps, batch, width);
        }

        // The slice along its dim, which the value's rank resolves; the result has Count there.
        private Value Slice(Nn.Slice slice, string prefix, string name, Value x)
        {
            int axis = slice.Dim < 0 ? x.Shape.Count + slice.Dim : slice.Dim;
            if (axis < 0 || axis >= x.Shape.Count)
            {
                throw new OnnxExportException($"The Slice '{prefix}' narrows dim {slice.Dim}; the value before it has rank {x.Shape.Count}.");
            }

            OnnxDimension[] shape = [.. x.Shape];
            shape[axis] = slice.Count;
            return x.With(builder.Slice(x.Name, slice.Start, slice.Count, name, axis), shape);
        }

        private string StateName(string prefix, string state) => prefix == rootStateName ? state : $"{prefix}.{state}";

        // A float value's input features (its last dimension, or a BatchNorm1d's channels, dim 1) must be the module's,
        // where the graph fixes them; ONNX Runtime would otherwise refuse the graph when loading it, naming a node
        // rather than the layer. Token ids have no width: the module reads them as one-hot rows of its own.
        private static void ExpectWidth(Module module, string prefix, Value x, int expected, bool channels = false)
        {
            var actual = x.Shape[channels ? 1 : x.Shape.Count - 1];
            if (!x.Indices && actual.Symbol is null && actual.Size != expected)
            {
                string takes = channels ? $"{expected} channels (dim 1)" : $"an input width of {expected}";
                string has = channels ? $"{actual.Size}" : $"width {actual.Size}";
                throw new OnnxExportException(
                    $"The {module.GetType().Name} at '{(prefix.Length == 0 ? "(root)" : prefix)}' expects {takes}, but the value before it has {has} (shape [{string.Join(", ", x.Shape)}]).");
            }
        }

        private static void Expect(Module module, string prefix, Value x, bool indices)
        {
            if (x.Indices != indices)
            {
                throw new OnnxExportException(
                    $"The module {module.GetType().Name} at '{(prefix.Length == 0 ? "(root)" : prefix)}' takes {(indices ? "token ids" : "a float tensor")}, but the value before it is {(x.Indices ? "token ids" : "a float tensor")}.");
            }
        }
    }
}
