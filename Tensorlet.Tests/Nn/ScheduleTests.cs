using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>Each schedule's learning rates over 12 epochs against torch.optim.lr_scheduler's (scripts/make_module_fixtures.py).</summary>
public sealed class ScheduleTests
{
    [TestCase("step_lr")]
    [TestCase("exponential_lr")]
    [TestCase("warmup_cosine")]
    [TestCase("plateau")]
    public void LearningRatesMatchPyTorch(string name)
    {
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/schedules.safetensors"));
        var expected = fixture[name].Data;
        var metric = fixture["plateau_metric"].Data;
        using var device = Device.Create("cpu");
        using var model = new Linear(1, 1);
        model.Build(device);
        using var sgd = new Sgd(model.Parameters, 0.1f);
        LearningRateSchedule schedule = name switch
        {
            "step_lr" => new StepLR(sgd, 3, 0.5),
            "exponential_lr" => new ExponentialLR(sgd, 0.9),
            "warmup_cosine" => new WarmupCosineLR(sgd, 3, 10),
            _ => new ReduceLROnPlateau(sgd, factor: 0.5, patience: 1, cooldown: 1),
        };

        // The base rate is the optimizer's float 0.1, torch's the double 0.1: 1.5e-9 apart, well inside 1e-7.
        var actual = new List<double> { schedule.LearningRate };
        for (int e = 0; e < expected.Length - 1; e++)
        {
            schedule.Step(schedule.NeedsMetric ? metric[e] : null);
            actual.Add(schedule.LearningRate);
            Assert.That(sgd.LearningRate, Is.EqualTo((float)schedule.LearningRate), "the optimizer gets the rate");
        }

        for (int e = 0; e < expected.Length; e++)
        {
            Assert.That(actual[e], Is.EqualTo(expected[e]).Within(1e-7 * Math.Max(Math.Abs(expected[e]), 1e-3)), $"{name} epoch {e}");
        }
    }

    // CosineAnnealingLR (on past T_max, where it rises again), MultiStepLR (milestones unsorted, one repeated) and LinearLR
    // over two groups whose float rates torch starts from as doubles (scripts/make_cosine_multistep_linear_fixtures.py):
    // the same operations in the same order give torch's doubles. Chained after an ExponentialLR, LinearLR scales the
    // rate the optimizer has when it is made, and each step goes on from the optimizer's float: within float roundings.
    [TestCase("cosine")]
    [TestCase("cosine_tmax1")]
    [TestCase("multistep")]
    [TestCase("linear")]
    [TestCase("linear_default")]
    [TestCase("linear_after_exponential")]
    public void CosineMultiStepAndLinearGiveEachGroupTorchsRates(string name)
    {
        var expected = Float64Fixture.Read(TestData.Fixture("torch/cosine_multistep_linear.safetensors"), name);
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var sgd = new Sgd([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.01f }], 0.1f);
        var exponential = name == "linear_after_exponential" ? new ExponentialLR(sgd, 0.9) : null;
        exponential?.Step();
        exponential?.Step();
        LearningRateSchedule schedule = name switch
        {
            "cosine" => new CosineAnnealingLR(sgd, tMax: 10, etaMin: 0.001),
            "cosine_tmax1" => new CosineAnnealingLR(sgd, tMax: 1),
            "multistep" => new MultiStepLR(sgd, [12, 3, 7, 7], gamma: 0.3),
            "linear" => new LinearLR(sgd, startFactor: 0.25, endFactor: 0.9, totalIters: 6),
            "linear_default" => new LinearLR(sgd),
            _ => new LinearLR(sgd, startFactor: 0.5, totalIters: 4),
        };

        double tolerance = exponential is null ? 0 : 1e-6;
        for (int e = 0; e < expected.Length / 2; e++)
        {
            if (e > 0)
            {
                exponential?.Step();
                schedule.Step();
            }

            for (int g = 0; g < 2; g++)
            {
                double torch = expected[(e * 2) + g];
                Assert.That(schedule.LearningRates[g], Is.EqualTo(torch).Within(tolerance * torch), $"group {g} epoch {e}");
                Assert.That(sgd.GetLearningRate(g), Is.EqualTo((float)schedule.LearningRates[g]), $"the optimizer's group {g}, epoch {e}");
            }
        }
    }

    [Test]
    public void AStepRefusedForWantOfItsMetricChangesNothing()
    {
        using var device = Device.Create("cpu");
        using var model = new Linear(1, 1);
        model.Build(device);
        using var sgd = new Sgd(model.Parameters, 0.1f);
        var plateau = new ReduceLROnPlateau(sgd, factor: 0.5, patience: 0);
        plateau.Step(1.0);
        var before = plateau.StateDict().ToDictionary();
        Assert.Throws<ArgumentNullException>(() => plateau.Step());
        Assert.That(plateau.StateDict(), Is.EqualTo(before));
        Assert.That(plateau.Epoch, Is.EqualTo(1));
    }

    // Two schedules on one optimizer, and a rate set by hand between steps: each step goes on from the optimizer's rate.
    [TestCase("chained")]
    [TestCase("step_lr_set_by_hand")]
    public void ASchedulesStepGoesOnFromTheRateTheOptimizerHasAsPyTorchDoes(string name)
    {
        var expected = SafeTensorsFile.Read(TestData.Fixture("torch/schedules.safetensors"))[name].Data;
        using var device = Device.Create("cpu");
        using var model = new Linear(1, 1);
        model.Build(device);
        using var sgd = new Sgd(model.Parameters, 0.1f);
        LearningRateSchedule[] schedules = name == "chained" ? [new StepLR(sgd, 2, 0.5), new ExponentialLR(sgd, 0.9)] : [new StepLR(sgd, 3, 0.5)];

        var actual = new List<double> { sgd.LearningRate };
        for (int e = 0; e < expected.Length - 1; e++)
        {
            if (name == "step_lr_set_by_hand" && e == 4)
            {
                sgd.LearningRate = 0.02f;
            }

            foreach (var schedule in schedules)
            {
                schedule.Step();
            }

            actual.Add(sgd.LearningRate);
        }

        // The optimizer's float rate against torch's double: within a few float roundings.
        for (int e = 0; e < expected.Length; e++)
        {
            Assert.That(actual[e], Is.EqualTo(expected[e]).Within(1e-6 * expected[e]), $"{name} epoch {e}");
        }
    }

    // With parameter groups each group follows the schedule from its own base rate, exactly as a one-group optimizer made
    // with that rate would (torch's base_lrs); ReduceLROnPlateau reduces every group at once, each down to the floor.
    [TestCase("step_lr")]
    [TestCase("exponential_lr")]
    [TestCase("warmup_cosine")]
    [TestCase("plateau")]
    public void EachParameterGroupFollowsTheScheduleFromItsOwnBaseRate(string name)
    {
        var metric = SafeTensorsFile.Read(TestData.Fixture("torch/schedules.safetensors"))["plateau_metric"].Data;
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        LearningRateSchedule Make(IOptimizer optimizer) => name switch
        {
            "step_lr" => new StepLR(optimizer, 3, 0.5),
            "exponential_lr" => new ExponentialLR(optimizer, 0.9),
            "warmup_cosine" => new WarmupCosineLR(optimizer, 3, 10),
            _ => new ReduceLROnPlateau(optimizer, factor: 0.5, patience: 1, cooldown: 1, minLearningRate: 0.015),
        };

        using var grouped = new Sgd([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.02f }], 0.1f);
        using var first = new Sgd(model.Parameters, 0.1f);
        using var second = new Sgd(model.Parameters, 0.02f);
        var schedules = new[] { Make(grouped), Make(first), Make(second) };
        Assert.That(schedules[0].BaseLearningRates, Is.EqualTo(new[] { 0.1f, 0.02f }.Select(r => (double)r)));
        for (int e = 0; e < metric.Length - 1; e++)
        {
            foreach (var schedule in schedules)
            {
                schedule.Step(schedule.NeedsMetric ? metric[e] : null);
            }

            Assert.That(schedules[0].LearningRates, Is.EqualTo(new[] { schedules[1].LearningRate, schedules[2].LearningRate }), $"epoch {e + 1}");
            Assert.That((grouped.GetLearningRate(0), grouped.GetLearningRate(1)), Is.EqualTo((first.LearningRate, second.LearningRate)), $"epoch {e + 1}");
        }
    }

    // As torch's schedulers with initial_lr: the first schedule records each group's rate as its initial rate, and a
    // later one starts from it, not from the rate the first has set (a warm-up's 0); ReduceLROnPlateau, no _LRScheduler
    // in torch, neither reads nor records it.
    [Test]
    public void TheFirstScheduleRecordsEachGroupsInitialRateAndALaterOneStartsFromIt()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var sgd = new Sgd([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.02f }], 0.1f);
        Assert.That((sgd.GetInitialLearningRate(0), sgd.GetInitialLearningRate(1)), Is.EqualTo(((float?)null, (float?)null)), "none before a schedule");

        sgd.SetLearningRate(1, 0.03f);
        var plateau = new ReduceLROnPlateau(sgd);
        Assert.That(sgd.GetInitialLearningRate(1), Is.Null, "ReduceLROnPlateau records none");
        var warmup = new WarmupCosineLR(sgd, warmupSteps: 3, totalSteps: 10);
        Assert.That((sgd.GetInitialLearningRate(0), sgd.GetInitialLearningRate(1), sgd.GetLearningRate(1)), Is.EqualTo(((float?)0.1f, (float?)0.03f, 0f)), "the rate set by hand, then the warm-up's 0");

        var step = new StepLR(sgd, stepSize: 2);
        var later = new ReduceLROnPlateau(sgd);
        Assert.That((plateau.BaseLearningRates[1], warmup.BaseLearningRates[1], step.BaseLearningRates[1], later.BaseLearningRates[1]), Is.EqualTo(((double)0.03f, (double)0.03f, (double)0.03f, 0.0)));
        Assert.That(step.LearningRates[1], Is.EqualTo(0.0), "a chainable schedule goes on from the optimizer's rate");

        sgd.SetInitialLearningRate(1, 0.5f);
        Assert.That(new StepLR(sgd, stepSize: 2).BaseLearningRates[1], Is.EqualTo(0.5));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => sgd.SetInitialLearningRate(1, float.NaN))!.ParamName, Is.EqualTo("learningRate"));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.GetInitialLearningRate(2));
    }

    // A user's schedule, as torch's LambdaLR(f) with f(e) = 0.5·0.9^e, that counts its own steps: Next gives every
    // group's rate from that group's base, once at creation and once per step (scripts/make_schedule_group_fixtures.py).
    [Test]
    public void AUserScheduleSetsEachGroupFromItsOwnBaseAndItsNextRunsOncePerStepAsTorchsLambdaLR()
    {
        var expected = SafeTensorsFile.Read(TestData.Fixture("torch/schedule_groups.safetensors"))["lambda_groups"].Data;
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var adam = new Adam([new ParameterGroup(weights) { LearningRate = 0.1f }, new ParameterGroup(biases) { LearningRate = 0.01f }]);
        var schedule = new HalvingThenDecaying(adam);
        for (int e = 0; e < expected.Length / 2; e++)
        {
            if (e > 0)
            {
                schedule.Step();
            }

            for (int g = 0; g < 2; g++)
            {
                double torch = expected[(e * 2) + g];
                Assert.That(schedule.LearningRates[g], Is.EqualTo(torch).Within(1e-7 * torch), $"group {g} epoch {e}");
                Assert.That(adam.GetLearningRate(g), Is.EqualTo((float)schedule.LearningRates[g]), $"the optimizer's group {g}, epoch {e}");
            }
        }
    }

    // A user's torch.optim.lr_scheduler.ConstantLR(factor 0.5) made after an ExponentialLR(0.9) has stepped twice scales
    // the rate the optimizer has (0.1·0.9²), not its base, at epoch 0, as the library's LinearLR(0.5) does (whose
    // chained rates the torch fixture above checks).
    [Test]
    public void AUserScheduleMadeAfterAnotherCanStartFromTheRateTheOptimizerHas()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var sgd = new Sgd(model.Parameters, 0.1f);
        using var twin = new Sgd(model.Parameters, 0.1f);
        foreach (var optimizer in new[] { sgd, twin })
        {
            var exponential = new ExponentialLR(optimizer, 0.9);
            exponential.Step();
            exponential.Step();
        }

        var constant = new HalfUntilTwo(sgd);
        var linear = new LinearLR(twin, startFactor: 0.5, endFactor: 1, totalIters: 2);
        Assert.That(constant.LearningRates[0], Is.EqualTo(linear.LearningRates[0]).And.EqualTo((double)(0.1f * 0.9f * 0.9f) * 0.5).Within(1e-8));
        constant.Step();
        constant.Step();
        Assert.That(constant.LearningRates[0], Is.EqualTo(linear.LearningRates[0] * 2).Within(1e-8), "back to the rate it started from");
    }

    [Test]
    public void AGroupedSchedulesStateHoldsEveryGroupsRatesAndAStateOfAnotherNumberOfGroupsIsRefused()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var grouped = new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.02f }], 0.1f);
        var schedule = new StepLR(grouped, 1, 0.5);
        schedule.Step();
        var state = schedule.StateDict();
        Assert.That(state.Keys, Is.EquivalentTo(new[] { "last_epoch", "base_lr", "last_lr", "base_lr.1", "last_lr.1" }));
        Assert.That((state["last_lr"], state["last_lr.1"]), Is.EqualTo((0.1f * 0.5, 0.02f * 0.5)));

        using var other = new Adam([new ParameterGroup(weights), new ParameterGroup(biases)], 0.1f);
        var resumed = new StepLR(other, 1, 0.5);
        resumed.LoadStateDict(state);
        Assert.That((other.GetLearningRate(0), other.GetLearningRate(1), resumed.BaseLearningRates[1]), Is.EqualTo((0.05f, 0.01f, (double)0.02f)));

        using var single = new Adam(model.Parameters, 0.1f);
        var one = new StepLR(single, 1, 0.5);
        var ex = Assert.Throws<ArgumentException>(() => one.LoadStateDict(state))!;
        Assert.That(ex.Message, Does.StartWith("A StepLR state has base_lr, last_epoch, last_lr; unknown base_lr.1, last_lr.1."));
        Assert.That((one.Epoch, single.LearningRate), Is.EqualTo((0, 0.1f)), "nothing changes");
    }

    // torch's ConstantLR(factor 0.5, total_iters 2): the rate it is made with, halved until epoch 2.
    private sealed class HalfUntilTwo : LearningRateSchedule
    {
        public HalfUntilTwo(IOptimizer optimizer)
            : base(optimizer) => ApplyEpochZeroFromCurrentRates();

        protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
        {
            for (int g = 0; g < next.Length; g++)
            {
                next[g] = epoch == 0 ? current[g] * 0.5 : epoch == 2 ? current[g] * 2 : current[g];
            }
        }
    }

    // f(e) = 0.5·0.9^e with e counted in Next, as a user's schedule may: it gives the right rates only when Next runs
    // once per epoch, whatever the number of groups.
    private sealed class HalvingThenDecaying : LearningRateSchedule
    {
        private int epochs;

        public HalvingThenDecaying(IOptimizer optimizer)
            : base(optimizer) => ApplyEpochZero();

        protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
        {
            double factor = 0.5 * Math.Pow(0.9, epochs++);
            for (int g = 0; g < next.Length; g++)
            {
                next[g] = BaseLearningRates[g] * factor;
            }
        }
    }
}
