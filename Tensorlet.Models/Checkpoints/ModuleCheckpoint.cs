using System.Globalization;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Any module's state_dict as a safetensors file: one tensor per parameter and buffer under its PyTorch name (an int64
/// buffer, as BatchNorm1d's <c>num_batches_tracked</c>, as I64, the rest as F32), so a file written by
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> for the same architecture loads, and a saved file loads in PyTorch.
/// With an optimizer (and its learning-rate schedule), their state goes to a sibling file, <c>NAME.optimizer.ID.safetensors</c>,
/// which the module file names; the two are replaced together or not at all, and loaded together or not at all.
/// </summary>
public static class ModuleCheckpoint
{
    /// <summary>
    /// Writes every parameter and buffer of <paramref name="module"/> (built, the root) to <paramref name="path"/>, atomically, and
    /// with an <paramref name="optimizer"/> over its parameters (<see cref="Adam"/>, <see cref="AdamW"/>,
    /// <see cref="Sgd"/> or <see cref="RMSprop"/>) that optimizer's state beside it, with <paramref name="schedule"/>'s state dict when given,
    /// as one pair: a process killed during the save leaves the previous pair or the new one. A save without an
    /// optimizer deletes the state an earlier save left.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter or buffer holds NaN or an infinity, or the optimizer's state a value
    /// no training gives (NaN, an infinity other than a mean of squares' +∞, a negative mean of squares), which
    /// <see cref="Load"/> refuses as damage; the optimizer is over another module's parameters or its state cannot be
    /// saved; or the schedule is not the optimizer's. Nothing was written.</exception>
    /// <exception cref="CheckpointException">A file could not be written; the previous checkpoint is unchanged.</exception>
    public static void Save(Module module, string path, IOptimizer? optimizer = null, LearningRateSchedule? schedule = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckOptimizer(module, optimizer, schedule);
        var int64Buffers = module.NamedBuffers.Where(b => b.IsInt64).ToDictionary(b => b.Name);
        var state = module.StateDict();
        CheckFinite(state.Select(p => (p.Key, p.Value.Data)), "module", nameof(module));
        var tensors = state
            .Select(p => int64Buffers.TryGetValue(p.Key, out var b) ? SafeTensor.FromInt64(p.Key, p.Value.Shape, b.Int64Values) : new SafeTensor(p.Key, p.Value.Shape, p.Value.Data))
            .ToList();
        var fileMetadata = metadata is null ? [] : new Dictionary<string, string>(metadata);
        var writeOptimizer = optimizer is null ? null : OptimizerStateFile.Writer(optimizer, module.Parameters, schedule, nameof(optimizer));
        CheckpointPair.Save(path, fileMetadata, writeOptimizer, written => SafeTensorsFile.Write(path, tensors, written));
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="module"/>: every parameter and buffer must be there with its
    /// shape, and nothing else may be; float32, float64, float16 and bfloat16 tensors are read as float32, and integer or
    /// bool ones are refused (their bytes are no weights), but for an int64 buffer (a count), which takes an integer
    /// tensor's exact values or a float tensor's whole numbers ≥ 0, as PyTorch does; BatchNorm1d's
    /// <c>num_batches_tracked</c> may be absent, and is then set to 0, as PyTorch loads such a state_dict. With an
    /// <paramref name="optimizer"/>, the state saved beside the file is loaded into it too (and into
    /// <paramref name="schedule"/>, which sets the optimizer's learning rate), so training resumes exactly. Both files
    /// are read and checked before anything is written: on a mismatch neither the module, the optimizer nor the schedule changes.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is over another module's parameters or its state cannot be saved, or the schedule is not the optimizer's.</exception>
    /// <exception cref="CheckpointException">A file is unreadable, its tensors do not match, it was saved without the state asked for, or the optimizer file beside it is not the one saved with it.</exception>
    public static void Load(Module module, string path, IOptimizer? optimizer = null, LearningRateSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckOptimizer(module, optimizer, schedule);
        var file = SafeTensorsFile.Read(path);
        var buffers = module.NamedBuffers;
        var state = StateDict(file, module.Parameters.Parameters, "module", buffers);
        Action? loadOptimizer = null;
        if (optimizer is not null)
        {
            if (!file.Metadata.ContainsKey(CheckpointPair.OptimizerFileKey))
            {
                throw new CheckpointException($"{path} holds no optimizer state: it was saved without an optimizer.");
            }

            (_, loadOptimizer) = OptimizerStateFile.Read(CheckpointPair.OptimizerPath(path, file.Metadata), file, optimizer, module.Parameters, schedule);
        }

        // The schedule's state is checked as it loads (then nothing has changed), so it goes first; the rest cannot fail.
        loadOptimizer?.Invoke();
        module.LoadStateDict(state);
        foreach (var buffer in buffers.Where(b => b.IsInt64 && file.Tensors.TryGetValue(b.Name, out var t) && t.DType.IsInteger()))
        {
            // Exact: the state_dict's floats hold a count only up to 2^24.
            file.Tensors[buffer.Name].ToInt64Array().CopyTo(buffer.Int64Values, 0);
        }
    }

    /// <summary>
    /// The state_dict of <paramref name="parameters"/> (and <paramref name="buffers"/>) from <paramref name="file"/>: every
    /// one present with its shape (but a buffer that may be absent from a state_dict), a parameter or float buffer of a
    /// floating-point dtype and finite, an int64 buffer of whole numbers ≥ 0, and no other tensor.
    /// </summary>
    /// <exception cref="CheckpointException">A tensor is missing, of another shape, of the wrong kind of dtype, not finite, or a count that is no whole number ≥ 0, or the file holds another tensor.</exception>
    internal static Dictionary<string, (int[] Shape, float[] Data)> StateDict(SafeTensorsFile file, IReadOnlyList<Parameter> parameters, string owner, IReadOnlyList<ModuleBuffer>? buffers = null)
    {
        var state = new Dictionary<string, (int[] Shape, float[] Data)>();
        var expected = parameters.Select(p => (p.Name, p.Shape, Buffer: (ModuleBuffer?)null)).Concat((buffers ?? []).Select(b => (b.Name, b.Shape, Buffer: (ModuleBuffer?)b)));
        foreach (var (name, shape, buffer) in expected)
        {
            if (!file.Tensors.TryGetValue(name, out var t))
            {
                if (buffer is { OptionalInStateDict: true })
                {
                    continue; // Module.LoadStateDict sets it to its initial value, as PyTorch does
                }

                throw new CheckpointException($"{file.Path} has no tensor '{name}' [{string.Join(", ", shape)}]; it has {string.Join(", ", file.Tensors.Keys)}.");
            }

            if (!t.Shape.SequenceEqual(shape))
            {
                throw new CheckpointException($"{file.Path}: tensor '{name}' is {t.ShapeText} but the {owner} needs [{string.Join(", ", shape)}].");
            }

            // A count is read from an integer dtype or, as PyTorch reads it, from a float one holding a whole number.
            if (buffer is { IsInt64: true } && buffer.IndexOfInvalid(t.Data) is var bad and >= 0)
            {
                throw new CheckpointException($"{file.Path}: tensor '{name}' is a count (a whole number ≥ 0), but element {bad} is {t.Data[bad]}.");
            }

            // A NaN or infinity loaded would only show later, as NaN losses or a sampler stuck on one character.
            var data = buffer is { IsInt64: true } ? t.Data : file.FiniteFloatData(t, $"the {owner}'s weights");
            state[name] = ([.. t.Shape], data);
        }

        var extra = file.Tensors.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (extra.Count > 0)
        {
            throw new CheckpointException($"{file.Path} holds tensor(s) the {owner} does not have: {string.Join(", ", extra)}.");
        }

        return state;
    }

    /// <summary>
    /// Throws unless every value of <paramref name="state"/> is finite: a save writes only what a load takes back (the same
    /// scan as <see cref="SafeTensorsFile.FiniteFloatData"/>'s), checked before any file is touched.
    /// </summary>
    /// <param name="state">Each tensor's name and values.</param>
    /// <param name="owner">What holds the tensors, for the message: "module", "model".</param>
    /// <param name="parameterName">The argument that holds them.</param>
    /// <exception cref="ArgumentException">A value is NaN or an infinity; the message names the tensor, the value and its element.</exception>
    internal static void CheckFinite(IEnumerable<(string Name, float[] Data)> state, string owner, string parameterName)
    {
        foreach (var (name, data) in state)
        {
            if (StateChecks.IndexOfInvalid(data, nonNegative: false) is var bad and >= 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"The {owner}'s '{name}' holds a non-finite value ({data[bad]}) at element {bad}; a checkpoint holds finite values only (loading refuses any other), so nothing was written."),
                    parameterName);
            }
        }
    }

    private static void CheckOptimizer(Module module, IOptimizer? optimizer, LearningRateSchedule? schedule)
    {
        if (optimizer is null)
        {
            if (schedule is not null)
            {
                throw new ArgumentException($"A {schedule.GetType().Name}'s state is kept with its optimizer's: give the optimizer too.", nameof(schedule));
            }

            return;
        }

        if (schedule is not null && !ReferenceEquals(schedule.Optimizer, optimizer))
        {
            throw new ArgumentException($"The {schedule.GetType().Name} sets another optimizer's learning rate; give the optimizer it was made from.", nameof(schedule));
        }

        OptimizerStateFile.CheckSupported(optimizer, nameof(optimizer));
        if (!ReferenceEquals(optimizer.Parameters, module.Parameters))
        {
            throw new ArgumentException($"The {optimizer.GetType().Name} updates another model's parameters; give the one made from this module's Parameters.", nameof(optimizer));
        }
    }
}
