using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// amsgrad (Adam, AdamW) and centered (RMSprop) per parameter group: two groups, one with and one without, against
/// torch's param_groups (scripts/make_optimizer_fixtures.py, modules_group_flags) after 3 steps with weight decay at
/// ModuleTorchParityTests' tolerance; the buffer of the maximum or mean gradient is kept when some group uses it, holds
/// nothing but 0 for the other groups, and the steps allocate nothing; a saved state continues exactly, and one whose
/// groups' flags are not the optimizer's is refused in one line naming the group, changing nothing.
/// </summary>
public sealed class GroupFlagOptimizerTests
{
    private static IEnumerable<TestCaseData> Runs()
        => TestDevices.All.SelectMany(device => new[] { "adam_amsgrad_groups3", "adamw_amsgrad_groups3", "rmsprop_centered_groups3" }.Select(run => new TestCaseData(device, run)));

    [TestCaseSource(nameof(Runs))]
    public void OneGroupWithAndOneWithoutMatchPyTorchAfterThreeSteps(string deviceName, string run)
        => ModuleTorchParityTests.AssertRegressionRunMatches(TestDevices.Get(deviceName), "modules_group_flags.safetensors", run, p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return run switch
            {
                "adam_amsgrad_groups3" => new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = true }], 0.05f, beta1: 0.9f, beta2: 0.6f, weightDecay: 0.05f),
                "adamw_amsgrad_groups3" => new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = false }], 0.05f, beta1: 0.8f, beta2: 0.7f, weightDecay: 0.1f, amsgrad: true),
                _ => new RMSprop([new ParameterGroup(weights) { Centered = true }, new ParameterGroup(biases)], 0.01f, weightDecay: 0.1f, momentum: 0.5f),
            };
        });

    [Test]
    public void TheBufferIsKeptWhenSomeGroupUsesItHoldsZeroForTheOthersAndTheStepsAllocateNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var mixed = new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = true }], 0.01f, beta2: 0.5f);
        using var none = new AdamW([new ParameterGroup(weights) { Amsgrad = false }, new ParameterGroup(biases) { Amsgrad = false }], 0.01f, amsgrad: true);
        using var centered = new RMSprop([new ParameterGroup(weights) { Centered = true }, new ParameterGroup(biases)], 0.01f, momentum: 0.5f);
        using var uncentered = new RMSprop([new ParameterGroup(weights) { Centered = false }, new ParameterGroup(biases) { Centered = false }], 0.01f, centered: true);
        Optimizer[] all = [mixed, none, centered, uncentered];
        Assert.That((mixed.Amsgrad, none.Amsgrad, centered.Centered, uncentered.Centered), Is.EqualTo((false, true, false, true)), "the defaults, of the groups that set none");
        foreach (var optimizer in all)
        {
            FreezingTests.Step(model, optimizer, 0);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var optimizer in all)
        {
            optimizer.Step();
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by the steps");
        Assert.That((none.SaveState().MaxSecondMoment, uncentered.SaveState().GradientAverage), Is.EqualTo(((float[]?)null, (float[]?)null)), "no buffer where no group uses it");
        Assert.That((none.SaveState().Amsgrad, uncentered.SaveState().Centered), Is.EqualTo((new[] { false, false }, new[] { false, false })));

        var adam = mixed.SaveState();
        var rmsprop = centered.SaveState();
        Assert.That((adam.Amsgrad, rmsprop.Centered), Is.EqualTo((new[] { false, true }, new[] { true, false })));
        Assert.That(weights.SelectMany(p => Slice(adam.MaxSecondMoment!, p)), Is.All.EqualTo(0f), "no maximum for the group without amsgrad");
        Assert.That(biases.SelectMany(p => Slice(adam.MaxSecondMoment!, p)), Has.Some.Positive, "the amsgrad group's maximum");
        Assert.That(biases.SelectMany(p => Slice(rmsprop.GradientAverage!, p)), Is.All.EqualTo(0f), "no mean gradient for the uncentered group");
        Assert.That(weights.SelectMany(p => Slice(rmsprop.GradientAverage!, p)), Has.Some.Not.EqualTo(0f), "the centered group's mean gradient");

        static float[] Slice(float[] values, Parameter p) => values.AsSpan((int)p.Offset, (int)p.Length).ToArray();
    }

    public static IEnumerable<TestCaseData> Settings()
    {
        yield return new TestCaseData((Func<ParameterCollection, Optimizer>)(p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = true }], 0.05f, beta2: 0.5f, weightDecay: 0.01f);
        })).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, Optimizer>)(p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = false }], 0.05f, beta2: 0.5f, amsgrad: true);
        })).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterCollection, Optimizer>)(p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return new RMSprop([new ParameterGroup(weights) { Centered = true }, new ParameterGroup(biases)], 0.01f, weightDecay: 0.1f, momentum: 0.5f);
        })).SetArgDisplayNames("RMSprop");
    }

    [TestCaseSource(nameof(Settings))]
    public void ASavedStateLoadedIntoAFreshOptimizerContinuesExactly(Func<ParameterCollection, Optimizer> create)
        => OptimizerResume.AssertContinuesExactly(
            create,
            (optimizer, fresh) => Load(fresh, Save(optimizer)),
            (optimizer, fresh) => Assert.That(Buffers(Save(fresh)), Is.EqualTo(Buffers(Save(optimizer))), "bit for bit"));

    [Test]
    public void AStateWhoseGroupsFlagsAreNotTheOptimizersIsRefusedInOneLineNamingTheGroupAndChangesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        ParameterGroup[] Groups(bool? first, bool? second, bool amsgrad) => amsgrad
            ? [new ParameterGroup(weights) { Amsgrad = first }, new ParameterGroup(biases) { Amsgrad = second }]
            : [new ParameterGroup(weights) { Centered = first }, new ParameterGroup(biases) { Centered = second }];
        using var adam = new Adam(Groups(null, true, amsgrad: true));
        using var adamW = new AdamW(Groups(false, null, amsgrad: true), amsgrad: true);
        using var rmsprop = new RMSprop(Groups(true, null, amsgrad: false));
        using var plainRMSprop = new RMSprop(Groups(null, null, amsgrad: false));
        int n = (int)model.Parameters.Length;
        float[] Values() => Enumerable.Repeat(0.5f, n).ToArray();
        int[] groups = [.. model.Parameters.Parameters.Select(p => p.Shape.Count > 1 ? 0 : 1)];

        void Refused(Optimizer target, object state, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => Load(target, state))!;
            Assert.That((ex.Message, ex.ParamName), Is.EqualTo(($"{message} (Parameter 'state')", "state")));
        }

        Refused(adam, new AdamState(1, Values(), Values()) { MaxSecondMoment = Values(), Amsgrad = [true, false], Groups = groups }, "The saved Adam state's group 0 is amsgrad, but this optimizer's group 0 is not amsgrad; make the optimizer with the saved groups' amsgrad.");
        Refused(adamW, new AdamState(1, Values(), Values()) { MaxSecondMoment = Values(), Groups = groups }, "The saved Adam state's group 0 is amsgrad, but this optimizer's group 0 is not amsgrad; make the optimizer with the saved groups' amsgrad.");
        Refused(adam, new AdamState(1, Values(), Values()) { MaxSecondMoment = Values(), Amsgrad = [true], Groups = groups }, "The saved Adam state holds the amsgrad of 1 parameter group and this optimizer has 2.");
        Refused(adam, new AdamState(1, Values(), Values()) { Groups = groups }, "The saved Adam state has no running maximum of the second moment (max_exp_avg_sq), but this optimizer keeps one: group 1 is amsgrad.");
        Refused(rmsprop, new RMSpropState(1, Values(), null, Values()) { Centered = [false, true], Groups = groups }, "The saved RMSprop state's group 0 is not centered, but this optimizer's group 0 is centered; make the optimizer with the saved groups' centered.");
        Refused(plainRMSprop, new RMSpropState(1, Values(), null, Values()) { Centered = [true, false], Groups = groups }, "The saved RMSprop state has a mean gradient (grad_avg), but this optimizer keeps none: no group is centered.");
        Assert.That(new Optimizer[] { adam, adamW, rmsprop, plainRMSprop }.Select(o => o.StepCount), Is.All.Zero, "nothing loaded");
        Assert.That(adam.SaveState().MaxSecondMoment, Is.All.Zero, "nothing loaded");
    }

    private static object Save(Optimizer optimizer) => optimizer is RMSprop rmsprop ? rmsprop.SaveState() : AmsgradOptimizerTests.Save(optimizer);

    private static void Load(Optimizer optimizer, object state)
    {
        if (optimizer is RMSprop rmsprop)
        {
            rmsprop.LoadState((RMSpropState)state);
        }
        else
        {
            AmsgradOptimizerTests.Load(optimizer, (AdamState)state);
        }
    }

    // Every buffer of a saved state, and its groups' flags.
    private static object?[] Buffers(object state) => state switch
    {
        AdamState adam => [adam.FirstMoment, adam.SecondMoment, adam.MaxSecondMoment, adam.Amsgrad],
        _ => [((RMSpropState)state).SquareAverage, ((RMSpropState)state).MomentumBuffer, ((RMSpropState)state).GradientAverage, ((RMSpropState)state).Centered],
    };
}
