using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Optimizers over parameter groups (torch's param_groups): each group's learning rate, weight decay, (Sgd's)
/// momentum, (Adam's and AdamW's) betas, epsilon and amsgrad, and (RMSprop's) centered; a setting the optimizer does not have, a setting out of range,
/// or a layout that puts a trainable parameter in no group or in two, or mixes models, refused in one line; each group's
/// rate read and set; one group the same as the whole collection; no allocation in a step. The arithmetic against
/// PyTorch is in ParameterGroupParityTests.
/// </summary>
public sealed class ParameterGroupTests
{
    public static IEnumerable<TestCaseData> GroupedOptimizers()
    {
        yield return new TestCaseData((Func<IEnumerable<ParameterGroup>, IOptimizer>)(g => new Adam(g, 0.05f, weightDecay: 0.1f))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<IEnumerable<ParameterGroup>, IOptimizer>)(g => new AdamW(g, 0.05f, weightDecay: 0.1f))).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<IEnumerable<ParameterGroup>, IOptimizer>)(g => new Sgd(g, 0.05f, momentum: 0.9f, weightDecay: 0.1f))).SetArgDisplayNames("Sgd");
        yield return new TestCaseData((Func<IEnumerable<ParameterGroup>, IOptimizer>)(g => new RMSprop(g, 0.05f, weightDecay: 0.1f, momentum: 0.9f, centered: true))).SetArgDisplayNames("RMSprop");
    }

    [TestCaseSource(nameof(GroupedOptimizers))]
    public void OneGroupOfEveryParameterTrainsExactlyAsTheWholeCollection(Func<IEnumerable<ParameterGroup>, IOptimizer> create)
    {
        var device = TestDevices.Get("cpu");
        using var grouped = FreezingTests.Model(device);
        using var whole = FreezingTests.Model(device);
        using var groupedOptimizer = create([new ParameterGroup(grouped.Parameters.Parameters)]);
        using var wholeOptimizer = groupedOptimizer switch
        {
            Adam => (IOptimizer)new Adam(whole.Parameters, 0.05f, weightDecay: 0.1f),
            AdamW => new AdamW(whole.Parameters, 0.05f, weightDecay: 0.1f),
            RMSprop => new RMSprop(whole.Parameters, 0.05f, weightDecay: 0.1f, momentum: 0.9f, centered: true),
            _ => new Sgd(whole.Parameters, 0.05f, momentum: 0.9f, weightDecay: 0.1f),
        };
        for (int step = 0; step < 4; step++)
        {
            FreezingTests.Step(grouped, groupedOptimizer, step);
            FreezingTests.Step(whole, wholeOptimizer, step);
        }

        Assert.That(groupedOptimizer.GroupCount, Is.EqualTo(1));
        Assert.That(groupedOptimizer.Parameters, Is.SameAs(grouped.Parameters));
        Assert.That(grouped.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()));
    }

    // Each group's settings reach its parameters: a group of learning rate 0 leaves its parameters as they are, however
    // they interleave with the other group's in the flat buffer.
    [TestCaseSource(nameof(GroupedOptimizers))]
    public void AGroupOfLearningRateZeroIsLeftAsItIsAndTheOtherTrains(Func<IEnumerable<ParameterGroup>, IOptimizer> create)
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = WeightsAndBiases(model.Parameters);
        using var optimizer = create([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0f }]);
        var before = model.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Value.ToArray());
        for (int step = 0; step < 3; step++)
        {
            FreezingTests.Step(model, optimizer, step);
        }

        Assert.That((optimizer.GetLearningRate(0), optimizer.GetLearningRate(1)), Is.EqualTo((0.05f, 0f)));
        foreach (var p in model.Parameters.Parameters)
        {
            Assert.That(p.Value.ToArray(), p.Name.EndsWith("bias", StringComparison.Ordinal) ? Is.EqualTo(before[p.Name]) : Is.Not.EqualTo(before[p.Name]), p.Name);
        }
    }

    [Test]
    public void EachGroupsLearningRateIsReadAndSetAndTheSingleRateIsTheFirstGroupsAndSetsEveryGroup()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = WeightsAndBiases(model.Parameters);
        using var sgd = new Sgd([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.5f }], 0.1f);
        Assert.That((sgd.GroupCount, sgd.LearningRate, sgd.GetLearningRate(0), sgd.GetLearningRate(1)), Is.EqualTo((2, 0.1f, 0.1f, 0.5f)));

        sgd.SetLearningRate(1, 0.25f);
        Assert.That((sgd.LearningRate, sgd.GetLearningRate(1)), Is.EqualTo((0.1f, 0.25f)));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => sgd.SetLearningRate(1, float.NaN))!.ParamName, Is.EqualTo("learningRate"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => sgd.GetLearningRate(2))!.Message, Is.EqualTo("The optimizer has 2 parameter groups; got group 2. (Parameter 'group')"), "one line");
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.SetLearningRate(-1, 0.1f));
        Assert.That(sgd.GetLearningRate(1), Is.EqualTo(0.25f), "a refused rate leaves the old one");

        sgd.LearningRate = 0.01f;
        Assert.That((sgd.GetLearningRate(0), sgd.GetLearningRate(1)), Is.EqualTo((0.01f, 0.01f)), "as a loop over param_groups");
    }

    // IOptimizer's defaults, for an optimizer that keeps no groups, are those of one group, 0.
    [Test]
    public void AnOptimizerWithoutGroupsHasGroupZeroOnlyAndRefusesAnotherInOneLine()
    {
        using var model = FreezingTests.Model(TestDevices.Get("cpu"));
        using var halving = new ModuleCheckpointTests.HalvingOptimizer(model.Parameters);
        IOptimizer optimizer = halving;
        Assert.That((optimizer.GroupCount, optimizer.GetLearningRate(0), optimizer.GetInitialLearningRate(0)), Is.EqualTo((1, 0.5f, (float?)null)));
        foreach (int group in new[] { 1, -1 })
        {
            string expected = $"The optimizer has 1 parameter group; got group {group}. (Parameter 'group')";
            Assert.That(() => optimizer.GetLearningRate(group), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo(expected));
            Assert.That(() => optimizer.SetLearningRate(group, 0.1f), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo(expected));
            Assert.That(() => optimizer.GetInitialLearningRate(group), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo(expected));
            Assert.That(() => optimizer.SetInitialLearningRate(group, 0.1f), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo(expected));
        }

        Assert.That(halving.LearningRate, Is.EqualTo(0.5f), "a refused group sets nothing");
    }

    // The optimizers' settings read back as the constructor's defaults, whatever the first group sets.
    [Test]
    public void TheSettingsReadBackAreTheConstructorsDefaultsNotTheFirstGroups()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = WeightsAndBiases(model.Parameters);
        ParameterGroup[] adamGroups = [new ParameterGroup(biases) { WeightDecay = 0f }, new ParameterGroup(weights)];
        using var adam = new Adam(adamGroups, 1e-3f, weightDecay: 0.1f);
        using var adamW = new AdamW(adamGroups, 1e-3f, weightDecay: 0.1f);
        using var sgd = new Sgd([new ParameterGroup(biases) { WeightDecay = 0f, Momentum = 0f }, new ParameterGroup(weights)], 1e-3f, momentum: 0.9f, weightDecay: 0.1f);
        Assert.That((adam.WeightDecay, adamW.WeightDecay, sgd.WeightDecay, sgd.Momentum), Is.EqualTo((0.1f, 0.1f, 0.1f, 0.9f)));
        using var betas = new Adam([new ParameterGroup(biases) { Beta1 = 0.5f, Beta2 = 0.9f, Epsilon = 1e-3f }, new ParameterGroup(weights)], 1e-3f, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f);
        Assert.That((betas.Beta1, betas.Beta2, betas.Epsilon), Is.EqualTo((0.8f, 0.99f, 1e-6f)));
        using var betasW = new AdamW([new ParameterGroup(biases) { Beta1 = 0.5f, Beta2 = 0.9f, Epsilon = 1e-3f }, new ParameterGroup(weights)], 1e-3f, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f);
        Assert.That((betasW.Beta1, betasW.Beta2, betasW.Epsilon), Is.EqualTo((0.8f, 0.99f, 1e-6f)));
    }

    [Test]
    public void ALayoutThatIsNotOneGroupForEveryTrainableParameterIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var other = FreezingTests.Model(device);
        var p = model.Parameters;
        void Refused(Func<IOptimizer> create, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => create().Dispose())!;
            Assert.That((ex.Message, ex.ParamName), Is.EqualTo(($"{message} (Parameter 'groups')", "groups")));
        }

        Refused(() => new AdamW([new ParameterGroup([p["0.weight"], p["0.bias"], p["2.weight"]]), new ParameterGroup([p["0.bias"], p["2.bias"]])]),
            "Parameter '0.bias' is in group 0 and in group 1; a parameter belongs to one group.");
        Refused(() => new Adam([new ParameterGroup([p["0.weight"], p["0.bias"], p["0.bias"], p["2.weight"], p["2.bias"]])]), "Parameter '0.bias' is twice in group 0.");
        Refused(() => new Sgd([new ParameterGroup([p["0.weight"], p["0.bias"]]), new ParameterGroup([p["2.weight"]])], 0.1f),
            "Parameter '2.bias' requires a gradient but is in no group; add it to one, or freeze it.");
        Refused(() => new Sgd([new ParameterGroup(p.Parameters), new ParameterGroup([other.Parameters["2.bias"]])], 0.1f),
            "Parameter '2.bias' of group 1 and parameter '0.weight' of group 0 belong to different models; one optimizer trains one model.");
        Refused(() => new Adam([new ParameterGroup([]), new ParameterGroup([p["0.weight"]]), new ParameterGroup([other.Parameters["0.weight"]])]),
            "Parameter '0.weight' of group 2 and parameter '0.weight' of group 1 belong to different models; one optimizer trains one model.");
        Refused(() => new AdamW([new ParameterGroup(p.Parameters) { Momentum = 0.9f }]), "Group 0 sets a momentum, which AdamW does not have.");
        Refused(() => new Sgd([new ParameterGroup([p["0.weight"]]), new ParameterGroup([p["0.bias"], p["2.weight"], p["2.bias"]]) { Beta1 = 0.9f }], 0.1f), "Group 1 sets a beta1, which Sgd does not have.");
        Refused(() => new Sgd([new ParameterGroup(p.Parameters) { Beta2 = 0.9f }], 0.1f), "Group 0 sets a beta2, which Sgd does not have.");
        Refused(() => new Sgd([new ParameterGroup(p.Parameters) { Epsilon = 1e-6f }], 0.1f), "Group 0 sets an epsilon, which Sgd does not have.");
        Refused(() => new RMSprop([new ParameterGroup(p.Parameters) { Beta1 = 0.9f }]), "Group 0 sets a beta1, which RMSprop does not have.");
        Refused(() => new RMSprop([new ParameterGroup(p.Parameters) { Beta2 = 0.9f }]), "Group 0 sets a beta2, which RMSprop does not have.");
        Refused(() => new Adam([new ParameterGroup(p.Parameters) { Alpha = 0.9f }]), "Group 0 sets an alpha, which Adam does not have.");
        Refused(() => new Sgd([new ParameterGroup(p.Parameters) { Alpha = 0.9f }], 0.1f), "Group 0 sets an alpha, which Sgd does not have.");
        Refused(() => new Sgd([new ParameterGroup([p["0.weight"]]), new ParameterGroup([p["0.bias"], p["2.weight"], p["2.bias"]]) { Amsgrad = true }], 0.1f), "Group 1 sets amsgrad, which Sgd does not have.");
        Refused(() => new RMSprop([new ParameterGroup(p.Parameters) { Amsgrad = false }]), "Group 0 sets amsgrad, which RMSprop does not have.");
        Refused(() => new Adam([new ParameterGroup(p.Parameters) { Centered = true }]), "Group 0 sets centered, which Adam does not have.");
        Refused(() => new AdamW([new ParameterGroup(p.Parameters) { Centered = false }]), "Group 0 sets centered, which AdamW does not have.");
        Refused(() => new Sgd([new ParameterGroup(p.Parameters) { Centered = true }], 0.1f), "Group 0 sets centered, which Sgd does not have.");
        Refused(() => new Adam([]), "The Adam needs at least one parameter group.");
        Refused(() => new Sgd([new ParameterGroup([])], 0.1f), "The Sgd's parameter groups hold no parameter.");

        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([new ParameterGroup(p.Parameters) { WeightDecay = -1f }], 0.1f))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[0].WeightDecay"));
        bad = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([new ParameterGroup([p["0.weight"]]), new ParameterGroup([p["0.bias"], p["2.weight"], p["2.bias"]]) { LearningRate = float.PositiveInfinity }], 0.1f))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[1].LearningRate"));
        foreach (float beta in new[] { -0.1f, 1f, float.NaN })
        {
            bad = Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([new ParameterGroup([p["0.weight"]]), new ParameterGroup([p["0.bias"], p["2.weight"], p["2.bias"]]) { Beta2 = beta }]))!;
            Assert.That((bad.ParamName, bad.Message.Split(Environment.NewLine)[0]), Is.EqualTo(("groups[1].Beta2", $"groups[1].Beta2 must be in [0, 1); got {beta.ToString(System.Globalization.CultureInfo.InvariantCulture)}. (Parameter 'groups[1].Beta2')")));
        }

        bad = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([new ParameterGroup(p.Parameters) { Beta1 = 1f }]))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[0].Beta1"));
        bad = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([new ParameterGroup(p.Parameters) { Epsilon = -1e-8f }]))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[0].Epsilon"));
        bad = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop([new ParameterGroup(p.Parameters) { Alpha = 1f }]))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[0].Alpha"));
        bad = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop([new ParameterGroup(p.Parameters) { Epsilon = float.NaN }]))!;
        Assert.That(bad.ParamName, Is.EqualTo("groups[0].Epsilon"));
        Assert.Throws<ArgumentNullException>(() => _ = new ParameterGroup([p["0.weight"], null!]));
    }

    [Test]
    public void AFrozenParameterMayBeLeftOutAndUnfrozenItIsRefusedAtTheNextStepWhichChangesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var p = model.Parameters;
        model[2].SetRequiresGradient(false);
        using var adam = new AdamW([new ParameterGroup([p["0.weight"]]), new ParameterGroup([p["0.bias"]]) { WeightDecay = 0f }], 0.05f);
        FreezingTests.Step(model, adam, 0);
        var head = p["2.weight"].Value.ToArray();
        Assert.That(adam.StepCount, Is.EqualTo(1));

        model[2].SetRequiresGradient(true);
        var values = p.Values.ToArray();
        var ex = Assert.Throws<InvalidOperationException>(adam.Step)!;
        Assert.That(ex.Message, Is.EqualTo("Parameter '2.weight' requires a gradient but is in none of the optimizer's parameter groups: freeze it again, or make the optimizer with it in a group."));
        Assert.That((adam.StepCount, p.Values.ToArray()), Is.EqualTo((1, values)), "nothing changes");

        model[2].SetRequiresGradient(false);
        FreezingTests.Step(model, adam, 1);
        Assert.That(p["2.weight"].Value.ToArray(), Is.EqualTo(head));
    }

    [Test]
    public void AGroupedStepAndScheduleStepAllocateNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = WeightsAndBiases(model.Parameters);
        using var adamW = new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { WeightDecay = 0f, LearningRate = 0.01f }], 0.05f);
        using var sgd = new Sgd([new ParameterGroup(weights), new ParameterGroup(biases) { Momentum = 0f }], 0.05f, momentum: 0.9f);
        using var rmsprop = new RMSprop([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.02f, Alpha = 0.9f }], 0.05f, momentum: 0.9f, centered: true);
        var schedule = new StepLR(adamW, 1, 0.9);
        var plateau = new ReduceLROnPlateau(sgd, patience: 0);
        var exponential = new ExponentialLR(rmsprop, 0.5);
        FreezingTests.Step(model, adamW, 0);
        FreezingTests.Step(model, sgd, 0);
        FreezingTests.Step(model, rmsprop, 0);
        schedule.Step();
        plateau.Step(1.0);
        exponential.Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        adamW.Step();
        sgd.Step();
        rmsprop.Step();
        schedule.Step();
        plateau.Step(2.0);
        exponential.Step();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by the steps");
        Assert.That((rmsprop.GetLearningRate(0), rmsprop.GetLearningRate(1)), Is.EqualTo((0.05f * 0.25f, 0.02f * 0.25f)), "each RMSprop group's rate from its own base");
    }

    [Test]
    public void AStateOfAnotherGroupLayoutIsRefusedWhenLoadedAndChangesNothingAndItsLearningRatesAreLoaded()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = WeightsAndBiases(model.Parameters);
        using var adam = new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.5f }], 0.1f);
        FreezingTests.Step(model, adam, 0);
        adam.SetLearningRate(1, 0.25f);
        var saved = adam.SaveState();
        Assert.That((saved.Groups, saved.LearningRates), Is.EqualTo((new[] { 0, 1, 0, 1 }, new[] { 0.1f, 0.25f })));

        using var whole = new Adam(model.Parameters, 0.1f);
        using var swapped = new Adam([new ParameterGroup(biases), new ParameterGroup(weights)], 0.1f);
        using var three = new Adam([new ParameterGroup(weights), new ParameterGroup(biases.Take(1)), new ParameterGroup(biases.Skip(1))], 0.1f);
        void Refused(Adam target, AdamState state, string mismatch)
        {
            var ex = Assert.Throws<ArgumentException>(() => target.LoadState(state))!;
            Assert.That(ex.Message, Is.EqualTo($"The saved optimizer state does not fit this optimizer's parameter groups: {mismatch}. (Parameter 'state')"));
            Assert.That((target.StepCount, target.SaveState().FirstMoment), Is.EqualTo((0, new float[saved.FirstMoment.Length])), "nothing loaded");
        }

        Refused(whole, saved, "it has 2 parameter groups and this optimizer has 1");
        Refused(three, saved, "it has 2 parameter groups and this optimizer has 3");
        Refused(swapped, saved, "parameter '0.weight' is in group 0 there and in group 1 here");
        Refused(swapped, saved with { Groups = null, LearningRates = null }, "it has 1 parameter group and this optimizer has 2");
        Refused(swapped, saved with { Groups = [1, 0, 1], LearningRates = [0.1f, 0.2f] }, "it holds the groups of 3 parameters and the model has 4");
        Refused(swapped, saved with { Groups = [1, 0, 1, 0], LearningRates = [0.1f, -0.2f] }, "group 1's learning rate is -0.2; it must be a finite number of at least 0");
        Assert.That((swapped.GetLearningRate(0), swapped.GetLearningRate(1)), Is.EqualTo((0.1f, 0.1f)));

        using var resumed = new Adam([new ParameterGroup(weights), new ParameterGroup(biases)], 0.1f);
        resumed.LoadState(saved);
        Assert.That((resumed.StepCount, resumed.GetLearningRate(0), resumed.GetLearningRate(1)), Is.EqualTo((1, 0.1f, 0.25f)), "each group's rate, as torch's load_state_dict");
        whole.LoadState(whole.SaveState() with { LearningRates = null });
        Assert.That(whole.LearningRate, Is.EqualTo(0.1f), "a state without rates leaves them");
    }

    // Two groups' parameters: those with two or more dimensions, and the vectors (biases), in the collection's order.
    internal static (Parameter[] Weights, Parameter[] Biases) WeightsAndBiases(ParameterCollection parameters)
    {
        var all = parameters.Parameters;
        return ([.. all.Where(p => p.Shape.Count > 1)], [.. all.Where(p => p.Shape.Count == 1)]);
    }
}
