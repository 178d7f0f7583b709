using System.Globalization;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// An optimizer's state as a safetensors file, one tensor per parameter and per kind of state under PyTorch's state
/// names: <c>exp_avg.NAME</c> and <c>exp_avg_sq.NAME</c> for Adam and AdamW, with <c>max_exp_avg_sq.NAME</c> for the
/// parameters of the groups that are amsgrad, <c>momentum_buffer.NAME</c> for SGD with
/// momentum, <c>square_avg.NAME</c> for RMSprop, with <c>momentum_buffer.NAME</c> when it has momentum and
/// <c>grad_avg.NAME</c> for the parameters of the groups that are centered (as torch's state: a group's amsgrad or
/// centered is whether its parameters hold that state; a frozen parameter in no group holds it when some group does); the step count, the optimizer, its parameter groups (the group of each parameter,
/// each group's current and initial learning rate and its other settings), when given its learning-rate schedule's
/// state dict (<c>tensorlet.schedule.last_epoch</c>, ...) and the pair id it shares with its model file in the
/// metadata. The file of a checkpoint pair (<see cref="CheckpointPair"/>).
/// </summary>
internal static class OptimizerStateFile
{
    /// <summary>The metadata key of the steps taken.</summary>
    public const string StepKey = "tensorlet.step";

    /// <summary>The metadata key of the optimizer's name; files without it hold Adam's state.</summary>
    public const string OptimizerKey = "tensorlet.optimizer";

    /// <summary>The metadata key of the schedule's name; its state dict follows under <c>tensorlet.schedule.KEY</c>.</summary>
    public const string ScheduleKey = "tensorlet.schedule";

    /// <summary>
    /// The metadata key of the parameter group of each parameter, in the collection's order, comma-separated ("0,1,0,1";
    /// -1 for a frozen one in no group). Files without it were saved with one group of every parameter.
    /// </summary>
    public const string GroupsKey = "tensorlet.groups";

    /// <summary>The metadata key of each group's learning rate, comma-separated; files without it leave the optimizer's rates as they are.</summary>
    public const string LearningRatesKey = "tensorlet.learning_rates";

    /// <summary>
    /// The metadata key of each group's initial learning rate (torch's <c>initial_lr</c>), comma-separated; absent when
    /// a group had none, and in files saved before they were kept: such a file loads the rates the optimizer was made with.
    /// </summary>
    public const string InitialLearningRatesKey = "tensorlet.initial_learning_rates";

    /// <summary>
    /// The prefix of the metadata keys of each group's settings besides the learning rate, by their names in torch's
    /// <c>param_groups</c>, each comma-separated: <c>tensorlet.group.weight_decay</c>, <c>tensorlet.group.beta1</c>,
    /// <c>tensorlet.group.eps</c>, ... (those the optimizer has). A file without them loads whatever the optimizer's are.
    /// </summary>
    public const string GroupSettingKey = "tensorlet.group.";

    private const string FirstMoment = "exp_avg";
    private const string SecondMoment = "exp_avg_sq";
    private const string MaxSecondMoment = "max_exp_avg_sq";
    private const string MomentumBuffer = "momentum_buffer";
    private const string SquareAverage = "square_avg";
    private const string GradientAverage = "grad_avg";

    /// <summary>Throws unless the state of <paramref name="optimizer"/> can be saved: Adam, AdamW, SGD or RMSprop.</summary>
    public static void CheckSupported(IOptimizer optimizer, string parameterName)
    {
        if (optimizer is not (Adam or AdamW or Sgd or RMSprop))
        {
            throw new ArgumentException($"Checkpoints hold the state of Adam, AdamW, Sgd and RMSprop, not of {optimizer.GetType().Name}.", parameterName);
        }
    }

    /// <summary>
    /// Takes the state of <paramref name="optimizer"/> over <paramref name="parameters"/> (and
    /// <paramref name="schedule"/>'s), checks it with the rule <see cref="Read"/> applies, and returns the action that
    /// writes it to the path it is passed, atomically, recording the pair id it is passed, the id its model file records
    /// too. Called before anything is written, so that a state a load would refuse leaves the previous pair as it was.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer is of a kind whose state checkpoints do not hold, or its state holds a value no training gives (NaN, an infinity other than a mean of squares' +∞, a negative mean of squares), which <see cref="Read"/> would refuse as damage.</exception>
    public static Action<string, string> Writer(IOptimizer optimizer, ParameterCollection parameters, LearningRateSchedule? schedule, string parameterName)
    {
        CheckSupported(optimizer, parameterName);
        var (step, states, groups, learningRates, initialLearningRates) = optimizer switch
        {
            Adam adam => Moments(adam.SaveState()),
            AdamW adamW => Moments(adamW.SaveState()),
            Sgd sgd => Momentum(sgd.SaveState()),
            RMSprop rmsprop => Averages(rmsprop.SaveState()),
            _ => throw new System.Diagnostics.UnreachableException(), // CheckSupported refused the rest
        };
        var tensors = new List<SafeTensor>();
        for (int i = 0; i < parameters.Parameters.Count; i++)
        {
            var p = parameters.Parameters[i];
            int offset = checked((int)p.Offset);
            int length = checked((int)p.Length);
            foreach (var (state, values) in states.Where(s => Keeps(optimizer, s.Item1, i)))
            {
                var tensor = new SafeTensor($"{state}.{p.Name}", [.. p.Shape], values.AsSpan(offset, length).ToArray());
                if (Unreachable(state, tensor) is { } problem)
                {
                    throw new ArgumentException($"The {optimizer.GetType().Name}'s state cannot be saved: {problem}, which no training gives and a load refuses as damage; nothing was written.", parameterName);
                }

                tensors.Add(tensor);
            }
        }

        var metadata = new Dictionary<string, string>
        {
            [StepKey] = step.ToString(CultureInfo.InvariantCulture),
            [OptimizerKey] = optimizer.GetType().Name,
            [GroupsKey] = string.Join(',', groups!.Select(g => g.ToString(CultureInfo.InvariantCulture))),
            [LearningRatesKey] = Rates(learningRates!),
        };
        if (initialLearningRates is not null)
        {
            metadata[InitialLearningRatesKey] = Rates(initialLearningRates);
        }

        foreach (var (setting, values) in Layout(optimizer).Settings)
        {
            metadata[GroupSettingKey + setting] = Rates([.. values]);
        }

        if (schedule is not null)
        {
            metadata[ScheduleKey] = schedule.GetType().Name;
            foreach (var (key, value) in schedule.StateDict())
            {
                metadata[$"{ScheduleKey}.{key}"] = value.ToString("R", CultureInfo.InvariantCulture);
            }
        }

        return (path, pairId) => SafeTensorsFile.Write(path, tensors, new Dictionary<string, string>(metadata) { [CheckpointPair.PairIdKey] = pairId });

        static (int, (string, float[])[], int[]?, float[]?, float[]?) Moments(AdamState state)
            => (state.Step, state.MaxSecondMoment is { } maximum ? [(FirstMoment, state.FirstMoment), (SecondMoment, state.SecondMoment), (MaxSecondMoment, maximum)] : [(FirstMoment, state.FirstMoment), (SecondMoment, state.SecondMoment)], state.Groups, state.LearningRates, state.InitialLearningRates);
        static (int, (string, float[])[], int[]?, float[]?, float[]?) Momentum(SgdState state)
            => (state.Step, state.MomentumBuffer is { } buffer ? [(MomentumBuffer, buffer)] : [], state.Groups, state.LearningRates, state.InitialLearningRates);
        static (int, (string, float[])[], int[]?, float[]?, float[]?) Averages(RMSpropState state)
        {
            (string, float[]?)[] buffers = [(SquareAverage, state.SquareAverage), (MomentumBuffer, state.MomentumBuffer), (GradientAverage, state.GradientAverage)];
            return (state.Step, [.. buffers.Where(b => b.Item2 is not null).Select(b => (b.Item1, b.Item2!))], state.Groups, state.LearningRates, state.InitialLearningRates);
        }
        static string Rates(float[] rates) => string.Join(',', rates.Select(r => r.ToString("R", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Reads and checks the state in <paramref name="path"/>, saved with <paramref name="model"/>, for <paramref name="optimizer"/> over
    /// <paramref name="parameters"/> (and <paramref name="schedule"/>'s, when given); returns its step and the action
    /// that loads it, so that a caller loading a pair checks both files before it changes anything. The action loads
    /// the schedule first, which refuses a bad state without changing anything, then the optimizer, which cannot fail.
    /// </summary>
    /// <exception cref="CheckpointException">The file is unreadable, was not saved with <paramref name="model"/>, is of another optimizer or schedule or of other parameter groups or group settings, lacks a state, holds one as an integer or bool tensor, or holds a value no training gives (NaN, an infinity other than a mean of squares' +∞, a negative mean of squares, a negative step count).</exception>
    public static (int Step, Action Load) Read(string path, SafeTensorsFile model, IOptimizer optimizer, ParameterCollection parameters, LearningRateSchedule? schedule = null)
    {
        CheckSupported(optimizer, nameof(optimizer));
        var file = SafeTensorsFile.Read(path);
        CheckpointPair.CheckSavedTogether(model, file);
        string saved = file.Metadata.TryGetValue(OptimizerKey, out var name) ? name : nameof(Optim.Adam);
        if (saved != optimizer.GetType().Name)
        {
            throw new CheckpointException($"{path} holds the state of {saved}, not of the {optimizer.GetType().Name} given.");
        }

        if (!file.Metadata.TryGetValue(StepKey, out var stepText)
            || !int.TryParse(stepText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int step))
        {
            throw new CheckpointException($"{path} has no readable step count ('{StepKey}').");
        }

        if (step < 0)
        {
            throw new CheckpointException($"{path} has a negative step count ('{StepKey}' is '{stepText}'); the file is damaged.");
        }

        // Every value is checked here, while nothing has changed, so that the load action cannot fail, by the rule
        // Writer applies (Unreachable): loaded, a value no training gives would turn the weights it touches into NaN
        // at the next step.
        float[] Flat(string state)
        {
            var values = new float[checked((int)parameters.Length)];
            for (int i = 0; i < parameters.Parameters.Count; i++)
            {
                var p = parameters.Parameters[i];
                if (!Keeps(optimizer, state, i))
                {
                    continue; // a group without the state holds 0 in the optimizer's buffer, which its steps never read
                }

                var tensor = file.Get($"{state}.{p.Name}", [.. p.Shape]);
                var data = file.FloatData(tensor, $"{optimizer.GetType().Name}'s state");
                if (Unreachable(state, tensor) is { } problem)
                {
                    throw new CheckpointException($"{path}: {problem}; the file is damaged.");
                }

                data.CopyTo(values, checked((int)p.Offset));
            }

            return values;
        }

        bool Holds(string state) => file.Tensors.Keys.Any(k => k.StartsWith(state + ".", StringComparison.Ordinal));
        if (optimizer is Sgd or RMSprop)
        {
            var (kind, hasMomentumBuffer) = optimizer is Sgd sgdGiven ? ("SGD", sgdGiven.HasMomentumBuffer) : ("RMSprop", ((RMSprop)optimizer).HasMomentumBuffer);
            if (Holds(MomentumBuffer) != hasMomentumBuffer)
            {
                throw new CheckpointException(hasMomentumBuffer
                    ? $"{path} holds no {kind} momentum buffers, but the {optimizer.GetType().Name} given has momentum {MomentumOf(Layout(optimizer))}."
                    : $"{path} holds {kind} momentum buffers, but the {optimizer.GetType().Name} given has no momentum.");
            }
        }

        if (optimizer is RMSprop && Holds(GradientAverage) != Layout(optimizer).KeepsState(Layout(optimizer).Centered))
        {
            throw new CheckpointException(Holds(GradientAverage)
                ? $"{path} holds RMSprop mean gradients ({GradientAverage}), but {Given(optimizer, "centered", false)}."
                : $"{path} holds no RMSprop mean gradients ({GradientAverage}), but {Given(optimizer, "centered", true)}.");
        }

        if (optimizer is Adam or AdamW && Holds(MaxSecondMoment) != Layout(optimizer).KeepsState(Layout(optimizer).Amsgrad))
        {
            throw new CheckpointException(Holds(MaxSecondMoment)
                ? $"{path} holds running maxima of the second moment ({MaxSecondMoment}), but {Given(optimizer, "amsgrad", false)}."
                : $"{path} holds no running maxima of the second moment ({MaxSecondMoment}), but {Given(optimizer, "amsgrad", true)}.");
        }

        int[]? groups = List<int>(GroupsKey, text => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int g) ? g : null);
        float[]? learningRates = List<float>(LearningRatesKey, ParseRate);
        float[]? initialLearningRates = List<float>(InitialLearningRatesKey, ParseRate);
        if (Layout(optimizer).Mismatch(groups, learningRates, initialLearningRates) is { } mismatch)
        {
            throw new CheckpointException($"{path} holds the state of other parameter groups than the {optimizer.GetType().Name}'s: {mismatch}.");
        }

        foreach (var (setting, values) in Layout(optimizer).Settings)
        {
            if (List<float>(GroupSettingKey + setting, ParseRate) is not { } savedValues)
            {
                continue;
            }

            if (savedValues.Length != values.Count)
            {
                throw new CheckpointException($"{path} holds {savedValues.Length} values of '{GroupSettingKey + setting}' for the {optimizer.GetType().Name}'s {values.Count} parameter group{(values.Count == 1 ? "" : "s")}; the file is damaged.");
            }

            if (Enumerable.Range(0, savedValues.Length).FirstOrDefault(i => savedValues[i] != values[i], -1) is var group and >= 0)
            {
                throw new CheckpointException(string.Create(CultureInfo.InvariantCulture, $"{path} was saved with group {group}'s {setting} {savedValues[group]:R}, and the {optimizer.GetType().Name} given has {values[group]:R}; make the optimizer with the saved settings."));
            }
        }

        // As torch's: a group is amsgrad, or centered, exactly when its parameters hold that state.
        foreach (var (state, what) in new[] { (MaxSecondMoment, "running maxima of the second moment"), (GradientAverage, "RMSprop mean gradients") })
        {
            if (FlagsOf(optimizer, state) is not { } flags)
            {
                continue;
            }

            string setting = state == MaxSecondMoment ? "amsgrad" : "centered";
            for (int i = 0; i < parameters.Parameters.Count; i++)
            {
                var p = parameters.Parameters[i];
                int g = Layout(optimizer).GroupOf[i];
                bool held = file.Tensors.ContainsKey($"{state}.{p.Name}");
                if (g >= 0 && held != flags[g])
                {
                    throw new CheckpointException($"{path} holds {(held ? "" : "no ")}{what} ({state}) for parameter '{p.Name}' of group {g}, but group {g} of the {optimizer.GetType().Name} given is {(flags[g] ? "" : "not ")}{setting}; make the optimizer with the saved groups' {setting}.");
                }
            }
        }

        int perParameter = optimizer switch
        {
            Sgd sgd => sgd.HasMomentumBuffer ? 1 : 0,
            RMSprop rmsprop => 1 + (rmsprop.HasMomentumBuffer ? 1 : 0),
            _ => 2,
        };
        int expected = (perParameter * parameters.Parameters.Count)
            + Enumerable.Range(0, parameters.Parameters.Count).Count(i => FlagsOf(optimizer, MaxSecondMoment) is not null && Keeps(optimizer, MaxSecondMoment, i))
            + Enumerable.Range(0, parameters.Parameters.Count).Count(i => FlagsOf(optimizer, GradientAverage) is not null && Keeps(optimizer, GradientAverage, i));
        if (file.Tensors.Count != expected)
        {
            throw new CheckpointException($"{path} holds {file.Tensors.Count} state tensors; the {optimizer.GetType().Name} of this model has {expected}.");
        }

        Action loadOptimizer = optimizer switch
        {
            Adam adam => Load(adam.LoadState, Moments()),
            AdamW adamW => Load(adamW.LoadState, Moments()),
            Sgd sgd => Load(sgd.LoadState, new SgdState(step, sgd.HasMomentumBuffer ? Flat(MomentumBuffer) : null) { Groups = groups, LearningRates = learningRates, InitialLearningRates = initialLearningRates }),
            RMSprop rmsprop => Load(rmsprop.LoadState, new RMSpropState(step, Flat(SquareAverage), rmsprop.HasMomentumBuffer ? Flat(MomentumBuffer) : null, rmsprop.HasGradientAverage ? Flat(GradientAverage) : null) { Centered = [.. Layout(optimizer).Centered], Groups = groups, LearningRates = learningRates, InitialLearningRates = initialLearningRates }),
            _ => throw new System.Diagnostics.UnreachableException(), // CheckSupported refused the rest
        };
        if (schedule is null)
        {
            return (step, loadOptimizer);
        }

        var scheduleState = ScheduleState(file, path, schedule);
        void LoadBoth()
        {
            try
            {
                schedule.LoadStateDict(scheduleState);
            }
            catch (ArgumentException e)
            {
                throw new CheckpointException($"{path} has a {schedule.GetType().Name} state the schedule cannot take: {e.Message}", e);
            }

            loadOptimizer();
        }

        return (step, LoadBoth);

        static Action Load<TState>(Action<TState> load, TState state) => () => load(state);
        AdamState Moments() => new(step, Flat(FirstMoment), Flat(SecondMoment))
        {
            MaxSecondMoment = Layout(optimizer).KeepsState(Layout(optimizer).Amsgrad) ? Flat(MaxSecondMoment) : null,
            Amsgrad = [.. Layout(optimizer).Amsgrad],
            Groups = groups,
            LearningRates = learningRates,
            InitialLearningRates = initialLearningRates,
        };
        static float? ParseRate(string text) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float r) ? r : null;

        // A comma-separated list of the metadata, or null when the file has none (saved before groups were recorded).
        T[]? List<T>(string key, Func<string, T?> parse)
            where T : struct
        {
            if (!file.Metadata.TryGetValue(key, out var text))
            {
                return null;
            }

            var items = text.Length == 0 ? [] : text.Split(',');
            var values = new T[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                values[i] = parse(items[i]) ?? throw new CheckpointException($"{path} has a malformed '{key}': '{text}'.");
            }

            return values;
        }
    }

    // The one rule for a state tensor's values, which Writer applies before it writes and Read before it loads, so
    // that Save writes only what Read takes back (StateChecks): what is wrong with tensor of torch's state, or null.
    private static string? Unreachable(string state, SafeTensor tensor)
    {
        if (StateChecks.IndexOfUnreachable(tensor.Data, state) is not (var bad and >= 0))
        {
            return null;
        }

        float value = tensor.Data[bad];
        return StateChecks.IsMeanOfSquares(state) && !float.IsNaN(value)
            ? string.Create(CultureInfo.InvariantCulture, $"tensor '{tensor.Name}' holds a negative value ({value}) at element {bad}, but a second moment is a mean of squares")
            : string.Create(CultureInfo.InvariantCulture, $"tensor '{tensor.Name}' holds a non-finite value ({value}) at element {bad}");
    }

    // The first group's momentum that is not 0, naming the group when there are several: "0.5 in group 1".
    private static string MomentumOf(ParameterGroupLayout groups)
    {
        int g = Enumerable.Range(0, groups.Count).First(i => groups.Momenta[i] != 0f); // the optimizer has a buffer: some group has momentum
        string momentum = groups.Momenta[g].ToString(CultureInfo.InvariantCulture);
        return groups.Count == 1 ? momentum : $"{momentum} in group {g}";
    }

    // Each group's amsgrad, for the running maximum of an Adam or AdamW, or centered, for an RMSprop's mean gradient; null
    // for every other state, which every parameter holds.
    private static IReadOnlyList<bool>? FlagsOf(IOptimizer optimizer, string state) => (optimizer, state) switch
    {
        (Adam or AdamW, MaxSecondMoment) => Layout(optimizer).Amsgrad,
        (RMSprop, GradientAverage) => Layout(optimizer).Centered,
        _ => null,
    };

    // Whether parameter i (in the collection's order) holds state in a file: every state but the ones of a group's
    // setting, which the parameters of the groups of that setting hold, and the frozen ones in no group when the
    // optimizer keeps that state at all (some parameter is in such a group).
    private static bool Keeps(IOptimizer optimizer, string state, int i)
        => FlagsOf(optimizer, state) is not { } flags
            || (Layout(optimizer).GroupOf[i] is var g && (g < 0 ? Layout(optimizer).KeepsState(flags) : flags[g]));

    // The optimizer given as a clause of a refusal, with setting (on) or without it in every group (not on): "the Adam
    // given is amsgrad", or with several groups "group 1 of the Adam given is amsgrad" or "no group of the Adam given is amsgrad".
    private static string Given(IOptimizer optimizer, string setting, bool on)
    {
        var flags = FlagsOf(optimizer, setting == "amsgrad" ? MaxSecondMoment : GradientAverage)!;
        string name = optimizer.GetType().Name;
        return (flags.Count, on) switch
        {
            (1, true) => $"the {name} given is {setting}",
            (1, false) => $"the {name} given is not {setting}",
            (_, true) => $"group {Enumerable.Range(0, flags.Count).First(g => flags[g])} of the {name} given is {setting}",
            _ => $"no group of the {name} given is {setting}",
        };
    }

    private static ParameterGroupLayout Layout(IOptimizer optimizer) => ((Optimizer)optimizer).Groups; // CheckSupported refused the rest

    // The schedule's state dict from the metadata, checked to be of this schedule's kind.
    private static Dictionary<string, double> ScheduleState(SafeTensorsFile file, string path, LearningRateSchedule schedule)
    {
        if (!file.Metadata.TryGetValue(ScheduleKey, out var savedSchedule))
        {
            throw new CheckpointException($"{path} holds no learning-rate schedule state: it was saved without a schedule.");
        }

        if (savedSchedule != schedule.GetType().Name)
        {
            throw new CheckpointException($"{path} holds the state of a {savedSchedule}, not of the {schedule.GetType().Name} given.");
        }

        var state = new Dictionary<string, double>();
        string prefix = ScheduleKey + ".";
        foreach (var (key, text) in file.Metadata)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                state[key[prefix.Length..]] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                    ? value
                    : throw new CheckpointException($"{path} has a malformed schedule value: {key} is '{text}'.");
            }
        }

        return state;
    }
}
