using System.Globalization;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// An optimizer's parameter groups, resolved: the group of every parameter of the collection and each group's
/// hyperparameters, the optimizer's defaults filled in. Made once, checked whole; only the learning rates (current and
/// initial) change after.
/// </summary>
internal sealed class ParameterGroupLayout
{
    private readonly int[] groupOf;
    private readonly float[] learningRates;
    private readonly float[] constructorLearningRates;
    private readonly float?[] initialLearningRates;

    private ParameterGroupLayout(ParameterCollection parameters, int[] groupOf, GroupDefaults defaults, GroupDefaults[] settings)
    {
        Parameters = parameters;
        Defaults = defaults;
        this.groupOf = groupOf;
        learningRates = [.. settings.Select(s => s.LearningRate)];
        constructorLearningRates = [.. learningRates];
        initialLearningRates = new float?[learningRates.Length];
        WeightDecays = [.. settings.Select(s => s.WeightDecay)];
        Momenta = [.. settings.Select(s => s.Momentum ?? 0f)];
        Betas1 = [.. settings.Select(s => s.Beta1 ?? 0f)];
        Betas2 = [.. settings.Select(s => s.Beta2 ?? 0f)];
        Epsilons = [.. settings.Select(s => s.Epsilon ?? 0f)];
        Alphas = [.. settings.Select(s => s.Alpha ?? 0f)];
        Amsgrad = [.. settings.Select(s => s.Amsgrad ?? false)];
        Centered = [.. settings.Select(s => s.Centered ?? false)];
        Settings = [.. new (string Name, float? Default, IReadOnlyList<float> Values)[]
        {
            ("weight_decay", defaults.WeightDecay, WeightDecays),
            ("momentum", defaults.Momentum, Momenta),
            ("beta1", defaults.Beta1, Betas1),
            ("beta2", defaults.Beta2, Betas2),
            ("eps", defaults.Epsilon, Epsilons),
            ("alpha", defaults.Alpha, Alphas),
        }.Where(s => s.Default is not null).Select(s => (s.Name, s.Values))];
    }

    /// <summary>The collection every parameter of the groups is in.</summary>
    public ParameterCollection Parameters { get; }

    /// <summary>The optimizer's settings, of the groups that set none.</summary>
    public GroupDefaults Defaults { get; }

    /// <summary>The number of groups.</summary>
    public int Count => learningRates.Length;

    /// <summary>The group of each parameter of the collection, in its order; -1 for a frozen one left out of every group.</summary>
    public IReadOnlyList<int> GroupOf => groupOf;

    /// <summary>Each group's weight decay.</summary>
    public IReadOnlyList<float> WeightDecays { get; }

    /// <summary>Each group's momentum (0 for Adam's).</summary>
    public IReadOnlyList<float> Momenta { get; }

    /// <summary>Each group's β1 (0 for an optimizer without).</summary>
    public IReadOnlyList<float> Betas1 { get; }

    /// <summary>Each group's β2 (0 for an optimizer without).</summary>
    public IReadOnlyList<float> Betas2 { get; }

    /// <summary>Each group's ε (0 for an optimizer without).</summary>
    public IReadOnlyList<float> Epsilons { get; }

    /// <summary>Each group's α (0 for an optimizer without).</summary>
    public IReadOnlyList<float> Alphas { get; }

    /// <summary>Each group's amsgrad (false for an optimizer without).</summary>
    public IReadOnlyList<bool> Amsgrad { get; }

    /// <summary>Each group's centered (false for an optimizer without).</summary>
    public IReadOnlyList<bool> Centered { get; }

    /// <summary>
    /// Whether some parameter is in a group whose flag (<see cref="Amsgrad"/> or <see cref="Centered"/>) is set: the
    /// optimizer then keeps that flag's state, for every parameter (a frozen one in no group too), and a checkpoint holds
    /// it for those groups' parameters and the frozen ones. A flagged group with no parameters keeps nothing.
    /// </summary>
    public bool KeepsState(IReadOnlyList<bool> flags)
    {
        foreach (int g in groupOf)
        {
            if (g >= 0 && flags[g])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Every setting of the optimizer's besides the learning rate, by its name in torch's <c>param_groups</c>
    /// ("weight_decay", "momentum", "beta1", "beta2", "eps", "alpha"), with each group's value: what a checkpoint records.
    /// </summary>
    public IReadOnlyList<(string Name, IReadOnlyList<float> Values)> Settings { get; }

    /// <summary>Every parameter of <paramref name="parameters"/> in one group, with the optimizer's settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (see <see cref="Check(GroupDefaults, Func{string, string})"/>), named as the optimizers' constructors name it.</exception>
    /// <exception cref="ArgumentException">The collection is not built.</exception>
    public static ParameterGroupLayout Whole(ParameterCollection parameters, GroupDefaults defaults)
    {
        Check(defaults, ConstructorName);
        ArgumentNullException.ThrowIfNull(parameters);
        _ = parameters.Device ?? throw new ArgumentException("Build the parameter collection before creating the optimizer.", nameof(parameters));
        return new(parameters, new int[parameters.Parameters.Count], defaults, [defaults]);
    }

    /// <summary>
    /// Resolves <paramref name="groups"/> against <paramref name="defaults"/>. <paramref name="optimizer"/> names the
    /// optimizer in messages; a group that sets a setting the defaults do not have (null there) is refused.
    /// </summary>
    /// <exception cref="ArgumentException">No group, no parameter, a model not built, a parameter of another model, in two groups, a trainable one in none, or a group that sets what the optimizer does not have.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A default or a group's setting is out of range (see <see cref="Check(GroupDefaults, Func{string, string})"/>); a group's is named <c>groups[i].Beta1</c>.</exception>
    public static ParameterGroupLayout Resolve(IEnumerable<ParameterGroup> groups, GroupDefaults defaults, string optimizer)
    {
        Check(defaults, ConstructorName);
        ArgumentNullException.ThrowIfNull(groups);
        ParameterGroup[] list = [.. groups];
        const string name = nameof(groups);
        if (list.Length == 0)
        {
            throw new ArgumentException($"The {optimizer} needs at least one parameter group.", name);
        }

        if (Array.IndexOf(list, null) is var missing and >= 0)
        {
            throw new ArgumentNullException(name, $"Parameter group {missing} is null.");
        }

        int firstGroup = Array.FindIndex(list, g => g.Parameters.Count > 0);
        if (firstGroup < 0)
        {
            throw new ArgumentException($"The {optimizer}'s parameter groups hold no parameter.", name);
        }

        var first = list[firstGroup].Parameters[0];
        var collection = first.Owner; // built: a module's parameters are reachable only once it is

        var index = new Dictionary<Parameter, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < collection.Parameters.Count; i++)
        {
            index[collection.Parameters[i]] = i;
        }

        var groupOf = Enumerable.Repeat(-1, collection.Parameters.Count).ToArray();
        var settings = new GroupDefaults[list.Length];
        for (int g = 0; g < list.Length; g++)
        {
            var group = list[g];
            foreach (var p in group.Parameters)
            {
                if (!index.TryGetValue(p, out int i))
                {
                    throw new ArgumentException($"Parameter '{p.Name}' of group {g} and parameter '{first.Name}' of group {firstGroup} belong to different models; one optimizer trains one model.", name);
                }

                if (groupOf[i] >= 0)
                {
                    throw new ArgumentException(groupOf[i] == g
                        ? $"Parameter '{p.Name}' is twice in group {g}."
                        : $"Parameter '{p.Name}' is in group {groupOf[i]} and in group {g}; a parameter belongs to one group.", name);
                }

                groupOf[i] = g;
            }

            settings[g] = new GroupDefaults(
                group.LearningRate ?? defaults.LearningRate,
                group.WeightDecay ?? defaults.WeightDecay,
                Setting(group.Momentum, defaults.Momentum, "a momentum"),
                Setting(group.Beta1, defaults.Beta1, "a beta1"),
                Setting(group.Beta2, defaults.Beta2, "a beta2"),
                Setting(group.Epsilon, defaults.Epsilon, "an epsilon"),
                Setting(group.Alpha, defaults.Alpha, "an alpha"),
                Setting(group.Amsgrad, defaults.Amsgrad, "amsgrad"),
                Setting(group.Centered, defaults.Centered, "centered"));
            Check(settings[g], setting => $"groups[{g}].{setting}");

            T? Setting<T>(T? value, T? fallback, string what)
                where T : struct => fallback is null && value is not null
                ? throw new ArgumentException($"Group {g} sets {what}, which {optimizer} does not have.", name)
                : value ?? fallback;
        }

        for (int i = 0; i < groupOf.Length; i++)
        {
            if (groupOf[i] < 0 && collection.Parameters[i].RequiresGradient)
            {
                throw new ArgumentException($"Parameter '{collection.Parameters[i].Name}' requires a gradient but is in no group; add it to one, or freeze it.", name);
            }
        }

        return new(collection, groupOf, defaults, settings);
    }

    /// <summary>Group <paramref name="group"/>'s learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group.</exception>
    public float GetLearningRate(int group) => learningRates[CheckGroup(group)];

    /// <summary>Sets group <paramref name="group"/>'s learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group, or the rate is negative or not finite.</exception>
    public void SetLearningRate(int group, float learningRate, string name)
    {
        CheckGroup(group);
        HyperparameterChecks.NonNegative(learningRate, name);
        learningRates[group] = learningRate;
    }

    /// <summary>Group <paramref name="group"/>'s initial learning rate (torch's <c>initial_lr</c>); null until a schedule records it or a state is loaded.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group.</exception>
    public float? GetInitialLearningRate(int group) => initialLearningRates[CheckGroup(group)];

    /// <summary>Sets group <paramref name="group"/>'s initial learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group, or the rate is negative or not finite.</exception>
    public void SetInitialLearningRate(int group, float learningRate, string name)
    {
        CheckGroup(group);
        HyperparameterChecks.NonNegative(learningRate, name);
        initialLearningRates[group] = learningRate;
    }

    /// <summary>Sets every group's learning rate to <paramref name="learningRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is negative or not finite.</exception>
    public void SetLearningRates(float learningRate, string name)
    {
        HyperparameterChecks.NonNegative(learningRate, name);
        Array.Fill(learningRates, learningRate);
    }

    /// <summary>The runs of <paramref name="buffers"/> (each as long as the collection) that a step updates, by group.</summary>
    public TrainableRuns Runs(params Tensor[] buffers) => new(Parameters, Count == 1 && !groupOf.Contains(-1) ? null : groupOf, buffers);

    /// <summary>A copy of the group of every parameter, for a saved state.</summary>
    public int[] SaveGroups() => [.. groupOf];

    /// <summary>A copy of every group's learning rate, for a saved state.</summary>
    public float[] SaveLearningRates() => [.. learningRates];

    /// <summary>A copy of every group's initial learning rate, for a saved state; null when a group has none.</summary>
    public float[]? SaveInitialLearningRates() => Array.IndexOf(initialLearningRates, null) >= 0 ? null : [.. initialLearningRates.Select(r => r!.Value)];

    /// <summary>
    /// Why a saved state with <paramref name="groups"/> (the group of each parameter; null for a state saved before groups,
    /// which had one), <paramref name="learningRates"/> and <paramref name="initialLearningRates"/> (each group's; null
    /// when not saved) cannot be loaded into these groups, as a clause ("it has 2 parameter groups and this optimizer
    /// has 3"); null when it can.
    /// </summary>
    public string? Mismatch(int[]? groups, float[]? learningRates, float[]? initialLearningRates)
    {
        int[] saved = groups ?? new int[groupOf.Length];
        if (saved.Length != groupOf.Length)
        {
            return $"it holds the groups of {saved.Length} parameters and the model has {groupOf.Length}";
        }

        int savedCount = learningRates?.Length ?? (saved.Length == 0 ? 1 : Math.Max(1, saved.Max() + 1));
        if (savedCount != Count)
        {
            return $"it has {savedCount} parameter group{(savedCount == 1 ? "" : "s")} and this optimizer has {Count}";
        }

        for (int i = 0; i < saved.Length; i++)
        {
            if (saved[i] != groupOf[i])
            {
                return $"parameter '{Parameters.Parameters[i].Name}' is in {Group(saved[i])} there and in {Group(groupOf[i])} here";
            }
        }

        if (learningRates is not null && StateChecks.IndexOfInvalid(learningRates, nonNegative: true) is var bad and >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"group {bad}'s learning rate is {learningRates[bad]}; it must be a finite number of at least 0");
        }

        if (initialLearningRates is not null && initialLearningRates.Length != Count)
        {
            return $"it has {initialLearningRates.Length} initial learning rate{(initialLearningRates.Length == 1 ? "" : "s")} and this optimizer has {Count} parameter group{(Count == 1 ? "" : "s")}";
        }

        if (initialLearningRates is not null && StateChecks.IndexOfInvalid(initialLearningRates, nonNegative: true) is var badInitial and >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"group {badInitial}'s initial learning rate is {initialLearningRates[badInitial]}; it must be a finite number of at least 0");
        }

        return null;

        static string Group(int g) => g < 0 ? "no group" : $"group {g}";
    }

    /// <summary>
    /// Loads learning rates and initial learning rates that passed <see cref="Mismatch"/>. Null rates leave them as they
    /// are; null initial rates (a state saved before they were kept, or by an optimizer no schedule ran on) are the rates
    /// the optimizer was made with.
    /// </summary>
    public void LoadLearningRates(float[]? saved, float[]? savedInitial)
    {
        saved?.CopyTo(learningRates, 0);
        var initial = savedInitial ?? constructorLearningRates;
        for (int g = 0; g < initial.Length; g++)
        {
            initialLearningRates[g] = initial[g];
        }
    }

    // A setting's name as the constructors' parameter: "beta1" for ParameterGroup.Beta1.
    private static string ConstructorName(string property) => char.ToLowerInvariant(property[0]) + property[1..];

    /// <summary>
    /// Throws unless every setting is in range: a rate, weight decay, momentum or ε finite and at least 0, a β in
    /// [0, 1), and so an α; each named by <paramref name="name"/> of its <see cref="ParameterGroup"/> property's name.
    /// </summary>
    private static void Check(GroupDefaults settings, Func<string, string> name)
    {
        HyperparameterChecks.NonNegative(settings.LearningRate, name(nameof(ParameterGroup.LearningRate)));
        HyperparameterChecks.NonNegative(settings.WeightDecay, name(nameof(ParameterGroup.WeightDecay)));
        if (settings.Momentum is { } momentum)
        {
            HyperparameterChecks.NonNegative(momentum, name(nameof(ParameterGroup.Momentum)));
        }

        if (settings.Beta1 is { } beta1)
        {
            HyperparameterChecks.Fraction(beta1, name(nameof(ParameterGroup.Beta1)));
        }

        if (settings.Beta2 is { } beta2)
        {
            HyperparameterChecks.Fraction(beta2, name(nameof(ParameterGroup.Beta2)));
        }

        if (settings.Epsilon is { } epsilon)
        {
            HyperparameterChecks.NonNegative(epsilon, name(nameof(ParameterGroup.Epsilon)));
        }

        if (settings.Alpha is { } alpha)
        {
            HyperparameterChecks.Fraction(alpha, name(nameof(ParameterGroup.Alpha)));
        }
    }

    /// <summary>
    /// <paramref name="group"/>, when it is one of an optimizer's <paramref name="count"/> groups [0, count); the one
    /// check of a group number, for the layout and for <see cref="IOptimizer"/>'s single-group defaults.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group.</exception>
    internal static int CheckGroup(int group, int count)
    {
        if ((uint)group >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(group), $"The optimizer has {count} parameter group{(count == 1 ? "" : "s")}; got group {group}.");
        }

        return group;
    }

    private int CheckGroup(int group) => CheckGroup(group, Count);
}
