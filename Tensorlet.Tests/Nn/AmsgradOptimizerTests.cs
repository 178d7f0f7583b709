using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Adam and AdamW with amsgrad against torch.optim.Adam/AdamW(amsgrad=True) (scripts/make_optimizer_fixtures.py) on the
/// regression MLP after 3 steps at ModuleTorchParityTests' tolerance; the running maximum is kept only with amsgrad, a
/// saved state continues exactly, and a state with the maximum where the optimizer keeps none, or the other way round,
/// is refused in one line, changing nothing.
/// </summary>
public sealed class AmsgradOptimizerTests
{
    private static IEnumerable<TestCaseData> Runs()
        => TestDevices.All.SelectMany(device => new[] { "adam_amsgrad3", "adamw_amsgrad3" }.Select(run => new TestCaseData(device, run)));

    [TestCaseSource(nameof(Runs))]
    public void AdamAndAdamWWithAmsgradMatchPyTorchAfterThreeSteps(string deviceName, string run)
        => ModuleTorchParityTests.AssertRegressionRunMatches(TestDevices.Get(deviceName), "modules_amsgrad.safetensors", run, p => run == "adam_amsgrad3"
            ? new Adam(p, 0.05f, beta1: 0.9f, beta2: 0.6f, weightDecay: 0.05f, amsgrad: true)
            : new AdamW(p, 0.05f, beta1: 0.8f, beta2: 0.7f, weightDecay: 0.1f, amsgrad: true));

    [Test]
    public void TheRunningMaximumIsKeptOnlyWithAmsgradAndItsStepAllocatesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var plain = new Adam(model.Parameters, 0.01f);
        using var amsgrad = new AdamW(model.Parameters, 0.01f, beta2: 0.5f, amsgrad: true);
        Assert.That((plain.Amsgrad, amsgrad.Amsgrad), Is.EqualTo((false, true)));
        FreezingTests.Step(model, plain, 0);
        FreezingTests.Step(model, amsgrad, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        plain.Step();
        amsgrad.Step();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by the steps");
        Assert.That(plain.SaveState().MaxSecondMoment, Is.Null, "no maximum without amsgrad");
        var state = amsgrad.SaveState();
        Assert.That(state.MaxSecondMoment, Has.Length.EqualTo(state.SecondMoment.Length));
        Assert.That(Enumerable.Range(0, state.SecondMoment.Length).All(i => state.MaxSecondMoment![i] >= state.SecondMoment[i]), "the maximum is at least v");
    }

    public static IEnumerable<TestCaseData> Settings()
    {
        yield return new TestCaseData((Func<ParameterCollection, Optimizer>)(p => new Adam(p, 0.05f, beta2: 0.5f, weightDecay: 0.01f, amsgrad: true))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, Optimizer>)(p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.02f, Beta2 = 0.6f }], 0.05f, beta2: 0.5f, amsgrad: true);
        })).SetArgDisplayNames("AdamW, groups");
    }

    [TestCaseSource(nameof(Settings))]
    public void ASavedStateLoadedIntoAFreshOptimizerContinuesExactly(Func<ParameterCollection, Optimizer> create)
        => OptimizerResume.AssertContinuesExactly(
            create,
            (optimizer, fresh) =>
            {
                var saved = Save(optimizer);
                Assert.That(Enumerable.Range(0, saved.SecondMoment.Length).Count(i => saved.MaxSecondMoment![i] > saved.SecondMoment[i]), Is.Positive, "the maximum is above v somewhere, so the resumed run needs it");
                Load(fresh, saved);
            },
            (optimizer, fresh) => Assert.That(Save(fresh).MaxSecondMoment, Is.EqualTo(Save(optimizer).MaxSecondMoment)));

    [Test]
    public void AStateWithTheMaximumWhereNoneIsKeptOrWithoutItWhereOneIsOrThatNoTrainingGivesIsRefusedInOneLineAndChangesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var plain = new Adam(model.Parameters);
        using var amsgrad = new AdamW(model.Parameters, amsgrad: true);
        int n = (int)model.Parameters.Length;
        float[] Values(float value = 0.5f, int at = 0)
        {
            var values = Enumerable.Repeat(0.5f, n).ToArray();
            values[at] = value;
            return values;
        }

        void Refused(Optimizer target, AdamState state, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => Load(target, state))!;
            Assert.That((ex.Message, ex.ParamName), Is.EqualTo(($"{message} (Parameter 'state')", "state")));
        }

        Refused(plain, new AdamState(1, Values(), Values()) { MaxSecondMoment = Values() }, "The saved Adam state has a running maximum of the second moment (max_exp_avg_sq), but this optimizer keeps none: it is not amsgrad.");
        Refused(amsgrad, new AdamState(1, Values(), Values()), "The saved Adam state has no running maximum of the second moment (max_exp_avg_sq), but this optimizer keeps one: it is amsgrad.");
        Refused(amsgrad, new AdamState(1, Values(), Values()) { MaxSecondMoment = new float[n + 1] }, $"The saved Adam state's running maximum of the second moment (max_exp_avg_sq) holds {n + 1} values but the model has {n} parameters.");
        Refused(amsgrad, new AdamState(1, Values(), Values()) { MaxSecondMoment = Values(-1f, 2) }, "The saved Adam state's running maximum of the second moment (max_exp_avg_sq) holds -1 at element 2; it must be a mean of squares: at least 0, or +Infinity where a gradient's square overflowed float.");
        Assert.That((plain.StepCount, amsgrad.StepCount), Is.EqualTo((0, 0)), "nothing loaded");
        Assert.That(amsgrad.SaveState().SecondMoment.Concat(amsgrad.SaveState().MaxSecondMoment!), Is.All.EqualTo(0f), "nothing loaded");

        // A maximum that overflowed float, where a gradient's square did, is +∞, as v is.
        amsgrad.LoadState(new AdamState(1, Values(), Values(float.PositiveInfinity, 2)) { MaxSecondMoment = Values(float.PositiveInfinity, 2) });
        Assert.That(amsgrad.SaveState().MaxSecondMoment![2], Is.EqualTo(float.PositiveInfinity));
    }

    internal static AdamState Save(Optimizer optimizer) => optimizer is AdamW adamW ? adamW.SaveState() : ((Adam)optimizer).SaveState();

    internal static void Load(Optimizer optimizer, AdamState state)
    {
        if (optimizer is AdamW adamW)
        {
            adamW.LoadState(state);
        }
        else
        {
            ((Adam)optimizer).LoadState(state);
        }
    }
}
