using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The RMSprop optimizer against torch.optim.RMSprop (scripts/make_optimizer_fixtures.py) on the regression MLP:
/// plain, with momentum, centered, with weight decay, all at once, over two parameter groups of their own settings, and
/// with gradient clipping, after 3 steps at ModuleTorchParityTests' tolerance; a saved state continues exactly; a state
/// of another kind or size refused in one line, changing nothing.
/// </summary>
public sealed class RMSpropOptimizerTests
{
    private static IEnumerable<TestCaseData> Runs()
        => TestDevices.All.SelectMany(device => new[] { "rmsprop3", "rmsprop_momentum3", "rmsprop_centered3", "rmsprop_wd3", "rmsprop_all3", "rmsprop_groups3", "rmsprop_clip3" }
            .Select(run => new TestCaseData(device, run)));

    [TestCaseSource(nameof(Runs))]
    public void RMSpropMatchesPyTorchAfterThreeSteps(string deviceName, string run)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_rmsprop.safetensors"));
        using var model = ModuleTorchParityTests.Regression(device, fixture);
        using var x = device.FromArray(fixture["x"].Data, 5, 3);
        using var y = device.FromArray(fixture["y"].Data, 5, 2);
        using var mse = new MseLoss();
        var p = model.Parameters;
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
        using var optimizer = run switch
        {
            "rmsprop3" => new RMSprop(p),
            "rmsprop_momentum3" or "rmsprop_clip3" => new RMSprop(p, momentum: 0.9f),
            "rmsprop_centered3" => new RMSprop(p, centered: true),
            "rmsprop_wd3" => new RMSprop(p, weightDecay: 0.1f),
            "rmsprop_all3" => new RMSprop(p, 0.005f, alpha: 0.95f, epsilon: 1e-6f, weightDecay: 0.05f, momentum: 0.8f, centered: true),
            _ => new RMSprop([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.03f, Momentum = 0.5f, Alpha = 0.9f, Epsilon = 1e-4f }]),
        };
        ModuleTorchParityTests.AssertThreeStepsMatch(model, optimizer, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
            if (run == "rmsprop_clip3")
            {
                GradientClipping.ClipGradientNorm(p, 0.1);
            }
        }, fixture, run);
    }

    public static IEnumerable<TestCaseData> Settings()
    {
        yield return new TestCaseData((Func<ParameterCollection, RMSprop>)(p => new RMSprop(p, 0.01f))).SetArgDisplayNames("plain");
        yield return new TestCaseData((Func<ParameterCollection, RMSprop>)(p => new RMSprop(p, 0.01f, weightDecay: 0.1f, momentum: 0.9f, centered: true))).SetArgDisplayNames("momentum, centered");
        yield return new TestCaseData((Func<ParameterCollection, RMSprop>)(p =>
        {
            var (weights, biases) = ParameterGroupTests.WeightsAndBiases(p);
            return new RMSprop([new ParameterGroup(weights) { Momentum = 0f }, new ParameterGroup(biases) { LearningRate = 0.05f, Alpha = 0.9f }], 0.01f, momentum: 0.5f);
        })).SetArgDisplayNames("groups");
    }

    [TestCaseSource(nameof(Settings))]
    public void ASavedStateLoadedIntoAFreshOptimizerContinuesExactly(Func<ParameterCollection, RMSprop> create)
        => OptimizerResume.AssertContinuesExactly(
            create,
            (optimizer, fresh) =>
            {
                optimizer.SetLearningRate(optimizer.GroupCount - 1, 0.002f);
                fresh.LoadState(optimizer.SaveState());
                Assert.That((fresh.StepCount, fresh.GetLearningRate(fresh.GroupCount - 1)), Is.EqualTo((3, 0.002f)));
            },
            (optimizer, fresh) => Assert.That(fresh.SaveState().SquareAverage, Is.EqualTo(optimizer.SaveState().SquareAverage)));

    [Test]
    public void AStateOfAnotherKindOrSizeOrThatNoTrainingGivesIsRefusedInOneLineAndChangesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var plain = new RMSprop(model.Parameters);
        using var full = new RMSprop(model.Parameters, momentum: 0.9f, centered: true);
        int n = (int)model.Parameters.Length;
        float[] Values(float value = 0.5f, int at = 0)
        {
            var values = Enumerable.Repeat(0.5f, n).ToArray();
            values[at] = value;
            return values;
        }

        void Refused(RMSprop target, RMSpropState state, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => target.LoadState(state))!;
            Assert.That((ex.Message, ex.ParamName), Is.EqualTo(($"{message} (Parameter 'state')", "state")));
        }

        Refused(plain, new RMSpropState(1, Values(), Values(), null), "The saved RMSprop state has a momentum buffer (momentum_buffer), but this optimizer keeps none: no group has momentum.");
        Refused(plain, new RMSpropState(1, Values(), null, Values()), "The saved RMSprop state has a mean gradient (grad_avg), but this optimizer keeps none: it is not centered.");
        Refused(full, new RMSpropState(1, Values(), null, Values()), "The saved RMSprop state has no momentum buffer (momentum_buffer), but this optimizer keeps one: it has momentum.");
        Refused(full, new RMSpropState(1, Values(), Values(), null), "The saved RMSprop state has no mean gradient (grad_avg), but this optimizer keeps one: it is centered.");
        Refused(plain, new RMSpropState(1, new float[n - 1], null, null), $"The saved RMSprop state's mean square (square_avg) holds {n - 1} values but the model has {n} parameters.");
        Refused(full, new RMSpropState(1, Values(), Values(), new float[n + 1]), $"The saved RMSprop state's mean gradient (grad_avg) holds {n + 1} values but the model has {n} parameters.");
        Refused(plain, new RMSpropState(1, Values(-1f, 2), null, null), "The saved RMSprop state's mean square (square_avg) holds -1 at element 2; it must be a mean of squares: at least 0, or +Infinity where a gradient's square overflowed float.");
        Refused(plain, new RMSpropState(1, Values(float.NaN, 1), null, null), "The saved RMSprop state's mean square (square_avg) holds NaN at element 1; it must be a mean of squares: at least 0, or +Infinity where a gradient's square overflowed float.");
        Refused(full, new RMSpropState(1, Values(), Values(float.PositiveInfinity, 3), Values()), "The saved RMSprop state's momentum buffer (momentum_buffer) holds Infinity at element 3; it must be finite.");
        Refused(full, new RMSpropState(1, Values(), Values(float.NaN, 3), Values()), "The saved RMSprop state's momentum buffer (momentum_buffer) holds NaN at element 3; it must be finite.");
        Refused(full, new RMSpropState(1, Values(), Values(), Values(float.PositiveInfinity, 1)), "The saved RMSprop state's mean gradient (grad_avg) holds Infinity at element 1; it must be finite.");
        Refused(plain, new RMSpropState(1, Values(), null, null) { Groups = [0, 1, 0, 1], LearningRates = [0.1f, 0.1f] }, "The saved optimizer state does not fit this optimizer's parameter groups: it has 2 parameter groups and this optimizer has 1.");
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.LoadState(new RMSpropState(-1, Values(), null, null)));

        Assert.That((plain.StepCount, full.StepCount), Is.EqualTo((0, 0)), "nothing loaded");
        Assert.That(plain.SaveState().SquareAverage.Concat(full.SaveState().MomentumBuffer!).Concat(full.SaveState().GradientAverage!), Is.All.EqualTo(0f), "nothing loaded");
        Assert.That((plain.SaveState().MomentumBuffer, plain.SaveState().GradientAverage), Is.EqualTo(((float[]?)null, (float[]?)null)), "no buffer it does not use");

        // A mean square that overflowed float, where a gradient's square did, is +∞ (its steps are 0, as in torch).
        plain.LoadState(new RMSpropState(1, Values(float.PositiveInfinity, 2), null, null));
        Assert.That(plain.SaveState().SquareAverage[2], Is.EqualTo(float.PositiveInfinity));

        // A momentum buffer and a mean gradient may be negative; a centered mean square is the mean gradient's square and
        // more, less float drift, or 0 where the kernel flushed it beside a tiny mean gradient.
        full.LoadState(new RMSpropState(2, Values(), Values(-1f, 0), Values(-0.5f, 0)));
        Assert.That(full.StepCount, Is.EqualTo(2));
        full.LoadState(new RMSpropState(3, Values(0.25f * (1 - 1.3e-5f), 2), Values(), Values(0.5f, 2)));
        full.LoadState(new RMSpropState(4, Values(0f, 2), Values(), Values(1e-22f, 2)));
        Assert.That(full.StepCount, Is.EqualTo(4));
    }

    [Test]
    public void ACenteredStateThatLongTrainingGivesLoadsThoughRoundingLeftItsMeanSquareBelowTheMeanGradientsSquare()
    {
        // Under a constant gradient s − a² is 0 in exact arithmetic; float rounding leaves it slightly negative (about
        // −1e-5 relative after 3000 steps at α = 0.99, as torch's own training), and the state must still load.
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var trained = new RMSprop(model.Parameters, 1e-6f, centered: true);
        int n = (int)model.Parameters.Length;
        model.Parameters.Gradients.CopyFrom(Enumerable.Range(0, n).Select(i => 0.01f + (3f * i / n)).ToArray());
        for (int step = 0; step < 3000; step++)
        {
            trained.Step();
        }

        var state = trained.SaveState();
        double drift = Enumerable.Range(0, n).Min(i => (state.SquareAverage[i] - ((double)state.GradientAverage![i] * state.GradientAverage[i])) / ((double)state.GradientAverage[i] * state.GradientAverage[i]));
        Assert.That(drift, Is.LessThan(0).And.GreaterThan(-1e-3), "the drift this test is about");
        using var fresh = new RMSprop(model.Parameters, 1e-6f, centered: true);
        fresh.LoadState(state);
        Assert.That(fresh.StepCount, Is.EqualTo(3000));
    }

    [Test]
    public void ACenteredStateOfAnAlphaNear1LoadsThoughDriftLeftItsMeanSquareFarBelowTheMeanGradientsSquare()
    {
        // At α = 0.999999 rounding drifts s − a² to about −2⁻²⁴/(1 − α) of a²: 6,000,000 steps of constant gradients
        // 0.5..1.0 left s at 0.30882356 beside a = 0.5588236 (a² 4.5 % above s), a state its own training gives, and
        // the kernel's clamp steps from it as from s = a², d = ε. Before, the load refused it (the tolerance was 1 %).
        var device = TestDevices.Get("cpu");
        using var model = FreezingTests.Model(device);
        using var optimizer = new RMSprop(model.Parameters, 1e-6f, alpha: 0.999999f, centered: true);
        int n = (int)model.Parameters.Length;
        float[] gradients = [.. Enumerable.Range(0, n).Select(i => 0.5f + (0.5f * i / n))];
        gradients[4] = 0.5588236f;
        float[] averages = [.. gradients];
        float[] squares = [.. gradients.Select(g => g * g)];
        squares[4] = 0.30882356f;
        var state = new RMSpropState(6_000_000, squares, null, averages);

        optimizer.LoadState(state);

        Assert.That((optimizer.StepCount, optimizer.SaveState().SquareAverage, optimizer.SaveState().GradientAverage), Is.EqualTo((6_000_000, squares, averages)));
        var weights = model.Parameters.Values.ToArray();
        model.Parameters.Gradients.CopyFrom(gradients);
        optimizer.Step();
        var stepped = model.Parameters.Values.ToArray();
        Assert.That(stepped, Is.All.Matches<float>(float.IsFinite));
        Assert.That(stepped[4], Is.EqualTo(weights[4] - (1e-6f * (gradients[4] / 1e-8f))), "s − a² clamped at 0: d = ε");
    }
}
