using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The optimizers refuse a hyperparameter torch.optim refuses (a negative learning rate, epsilon, weight decay or
/// momentum; betas outside [0, 1), and RMSprop's alpha too, where torch refuses only a negative one), and also NaN with
/// either sign bit and infinity, in the constructor and in the learning rate a schedule or the caller sets later; 0 is
/// allowed, as in PyTorch. A schedule's decay factor must be finite and at least 0, so that it never hands the
/// optimizer such a rate; gradient clipping's maximum at least 0.
/// </summary>
public sealed class OptimizerArgumentTests
{
    // The end of a load's refusal of a second moment or mean square.
    private const string MeanOfSquares = "it must be a mean of squares: at least 0, or +Infinity where a gradient's square overflowed float.";

    // NaN with the sign bit set (float.NaN in .NET) and clear: ThrowIfNegative let the second through.
    private static readonly float PositiveNaN = BitConverter.Int32BitsToSingle(0x7FC00000);

    private static readonly float[] BadValues = [-1f, float.NaN, PositiveNaN, float.PositiveInfinity, float.NegativeInfinity];

    private static IEnumerable<TestCaseData> Constructors()
    {
        foreach (float bad in BadValues)
        {
            yield return Case("Adam learningRate", "learningRate", bad, p => new Adam(p, learningRate: bad));
            yield return Case("Adam epsilon", "epsilon", bad, p => new Adam(p, epsilon: bad));
            yield return Case("Adam weightDecay", "weightDecay", bad, p => new Adam(p, weightDecay: bad));
            yield return Case("AdamW learningRate", "learningRate", bad, p => new AdamW(p, learningRate: bad));
            yield return Case("AdamW weightDecay", "weightDecay", bad, p => new AdamW(p, weightDecay: bad));
            yield return Case("Sgd learningRate", "learningRate", bad, p => new Sgd(p, bad));
            yield return Case("Sgd momentum", "momentum", bad, p => new Sgd(p, 0.1f, momentum: bad));
            yield return Case("Sgd dampening", "dampening", bad, p => new Sgd(p, 0.1f, momentum: 0.9f, dampening: bad));
            yield return Case("Sgd weightDecay", "weightDecay", bad, p => new Sgd(p, 0.1f, weightDecay: bad));
            yield return Case("RMSprop learningRate", "learningRate", bad, p => new RMSprop(p, learningRate: bad));
            yield return Case("RMSprop epsilon", "epsilon", bad, p => new RMSprop(p, epsilon: bad));
            yield return Case("RMSprop weightDecay", "weightDecay", bad, p => new RMSprop(p, weightDecay: bad));
            yield return Case("RMSprop momentum", "momentum", bad, p => new RMSprop(p, momentum: bad));
        }

        foreach (float bad in new[] { -0.1f, 1f, float.NaN, PositiveNaN })
        {
            yield return Case("Adam beta1", "beta1", bad, p => new Adam(p, beta1: bad));
            yield return Case("Adam beta2", "beta2", bad, p => new Adam(p, beta2: bad));
            yield return Case("RMSprop alpha", "alpha", bad, p => new RMSprop(p, alpha: bad));
        }
    }

    [TestCaseSource(nameof(Constructors))]
    public void AHyperparameterTorchWouldRefuseOrThatIsNotFiniteIsRefused(string parameter, float value, Func<ParameterCollection, IOptimizer> create)
    {
        using var model = Built();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => create(model.Parameters).Dispose());
        Assert.That(ex!.ParamName, Is.EqualTo(parameter));
        Assert.That(ex.Message, Does.Not.Contain('\n'), "one line");
    }

    [Test]
    public void ALearningRateSetLaterIsCheckedAndABadOneLeavesTheOldOne()
    {
        using var model = Built();
        using var adam = new Adam(model.Parameters, learningRate: 0.01f);
        using var adamW = new AdamW(model.Parameters, learningRate: 0.01f);
        using var sgd = new Sgd(model.Parameters, 0.01f);
        using var rmsprop = new RMSprop(model.Parameters, 0.01f);
        foreach (var optimizer in new IOptimizer[] { adam, adamW, sgd, rmsprop })
        {
            foreach (float bad in BadValues)
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.LearningRate = bad, $"{optimizer.GetType().Name}: {bad}");
                Assert.That(optimizer.LearningRate, Is.EqualTo(0.01f));
            }

            optimizer.LearningRate = 0f;
            Assert.That(optimizer.LearningRate, Is.Zero, "0 is allowed, as in PyTorch");
        }
    }

    [TestCase(-0.5)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void AScheduleRefusesADecayFactorThatIsNegativeOrNotFinite(double gamma)
    {
        using var model = Built();
        using var sgd = new Sgd(model.Parameters, 0.1f);
        Assert.Multiple(() =>
        {
            Assert.That(() => new StepLR(sgd, 2, gamma), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("gamma"));
            Assert.That(() => new ExponentialLR(sgd, gamma), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("gamma"));
        });
    }

    private static IEnumerable<TestCaseData> BadScheduleArguments()
    {
        static TestCaseData Case(string parameter, object value, Func<IOptimizer, LearningRateSchedule> create) =>
            new TestCaseData(parameter, create).SetArgDisplayNames(parameter, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);

        foreach (int tMax in new[] { 0, -3 })
        {
            yield return Case("tMax", tMax, o => new CosineAnnealingLR(o, tMax));
        }

        foreach (double bad in new[] { -0.1, double.NaN, double.PositiveInfinity })
        {
            yield return Case("etaMin", bad, o => new CosineAnnealingLR(o, 10, bad));
            yield return Case("gamma", bad, o => new MultiStepLR(o, [2], bad));
        }

        yield return Case("milestones", "3, 0", o => new MultiStepLR(o, [3, 0]));
        yield return Case("milestones", "-2, 5", o => new MultiStepLR(o, [-2, 5]));
        foreach (double bad in new[] { 0, -0.1, 1.5, double.NaN })
        {
            yield return Case("startFactor", bad, o => new LinearLR(o, startFactor: bad));
        }

        foreach (double bad in new[] { -0.1, 1.01, double.NaN })
        {
            yield return Case("endFactor", bad, o => new LinearLR(o, endFactor: bad));
        }

        yield return Case("totalIters", -1, o => new LinearLR(o, totalIters: -1));
    }

    // torch's checks (LinearLR's factors), and a T_max of 0 (torch's divides by it at the first step), a negative or
    // non-finite eta_min or gamma and a milestone below 1 (torch's would decay at creation or never), before the optimizer
    // records an initial rate.
    [TestCaseSource(nameof(BadScheduleArguments))]
    public void CosineMultiStepAndLinearRefuseABadArgumentAndLeaveTheOptimizerAsItWas(string parameter, Func<IOptimizer, LearningRateSchedule> create)
    {
        using var model = Built();
        using var sgd = new Sgd(model.Parameters, 0.1f);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => create(sgd))!;
        Assert.That(ex.ParamName, Is.EqualTo(parameter));
        Assert.That((sgd.LearningRate, sgd.GetInitialLearningRate(0)), Is.EqualTo((0.1f, (float?)null)), "no initial rate recorded");
    }

    [Test]
    public void MultiStepLRRefusesNullMilestones()
    {
        using var model = Built();
        using var sgd = new Sgd(model.Parameters, 0.1f);
        Assert.That(Assert.Throws<ArgumentNullException>(() => new MultiStepLR(sgd, null!))!.ParamName, Is.EqualTo("milestones"));
    }

    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    public void GradientClippingRefusesANegativeOrNaNMaximum(double maxNorm)
    {
        using var model = Built();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradientNorm(model.Parameters, maxNorm));
        Assert.That(ex!.ParamName, Is.EqualTo("maxNorm"));
    }

    [Test]
    public void GradientClippingWithAnInfiniteMaximumClipsNothing()
    {
        using var model = Built();
        model.Parameters.Gradients.CopyFrom([3f, 4f, 0f, 0f, 0f, 0f, 0f, 0f]);
        double norm = GradientClipping.ClipGradientNorm(model.Parameters, double.PositiveInfinity);
        Assert.That(norm, Is.EqualTo(5.0).Within(1e-6));
        Assert.That(model.Parameters.Gradients.ToArray(), Is.EqualTo(new[] { 3f, 4f, 0f, 0f, 0f, 0f, 0f, 0f }));
    }

    [Test]
    public void AnAdamStateWithANegativeStepIsRefusedWhenLoadedAndChangesNothing()
    {
        // Before, the state was taken and the next Step failed inside the kernel's bias correction with "step ('0')".
        using var model = Built();
        using var adam = new Adam(model.Parameters, 0.01f);
        using var adamW = new AdamW(model.Parameters, 0.01f);
        int count = (int)model.Parameters.Length;
        var bad = new AdamState(-1, new float[count], new float[count]);

        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LoadState(bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => adamW.LoadState(bad));

        Assert.That((adam.StepCount, adamW.StepCount), Is.EqualTo((0, 0)));
        Assert.DoesNotThrow(adam.Step);
    }

    [Test]
    public void AnOptimizerStateNoTrainingGivesIsRefusedWhenLoadedAndChangesNothing()
    {
        // Before, the state was taken and the next Step turned every weight it touched into NaN.
        using var model = Built();
        using var adam = new Adam(model.Parameters, 0.01f);
        using var adamW = new AdamW(model.Parameters, 0.01f);
        using var sgd = new Sgd(model.Parameters, 0.01f, momentum: 0.9f);
        int count = (int)model.Parameters.Length;
        float[] With(float value, int at)
        {
            var values = Enumerable.Repeat(0.5f, count).ToArray();
            values[at] = value;
            return values;
        }

        void Refused(Action load, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => load())!;
            Assert.That((ex.Message, ex.ParamName), Is.EqualTo(($"{message} (Parameter 'state')", "state")));
        }

        foreach (float bad in new[] { float.NaN, PositiveNaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            string text = bad.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var load in new Action<AdamState>[] { adam.LoadState, adamW.LoadState })
            {
                Refused(() => load(new AdamState(1, With(bad, 2), With(0.5f, 0))), $"The saved Adam state's first moment (exp_avg) holds {text} at element 2; it must be finite.");
                if (bad != float.PositiveInfinity)
                {
                    Refused(() => load(new AdamState(1, With(0.5f, 0), With(bad, 3))), $"The saved Adam state's second moment (exp_avg_sq) holds {text} at element 3; {MeanOfSquares}");
                }
            }

            Refused(() => sgd.LoadState(new SgdState(1, With(bad, 4))), $"The saved SGD state's momentum buffer holds {text} at element 4; it must be finite.");
        }

        // A second moment is a mean of squares; a first moment and a momentum buffer may be negative.
        Refused(() => adam.LoadState(new AdamState(1, With(0.5f, 0), With(-1f, 1))), $"The saved Adam state's second moment (exp_avg_sq) holds -1 at element 1; {MeanOfSquares}");
        Assert.That((adam.StepCount, adamW.StepCount, sgd.StepCount), Is.EqualTo((0, 0, 0)), "nothing loaded");
        Assert.That(adam.SaveState().SecondMoment.Concat(adamW.SaveState().FirstMoment).Concat(sgd.SaveState().MomentumBuffer!), Is.All.EqualTo(0f), "nothing loaded");

        adam.LoadState(new AdamState(1, With(-1f, 0), With(0f, 0)));
        sgd.LoadState(new SgdState(1, With(-1f, 0)));
        Assert.That((adam.StepCount, sgd.StepCount), Is.EqualTo((1, 1)));

        // A second moment that overflowed float, where a gradient's square did, is +∞: training gives it, as torch's does.
        adamW.LoadState(new AdamState(2, With(0.5f, 0), With(float.PositiveInfinity, 3)));
        Assert.That((adamW.StepCount, adamW.SaveState().SecondMoment[3]), Is.EqualTo((2, float.PositiveInfinity)));
    }

    [Test]
    public void ARecurrentStateForNoSequenceIsRefused()
    {
        var device = TestDevices.Get("cpu");
        var lstm = new Lstm(3, 4);
        var gru = new Gru(3, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => lstm.CreateState(device, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => gru.CreateState(device, -1));
        using var state = lstm.CreateState(device, 1);
        Assert.That(state.Batch, Is.EqualTo(1));
    }

    [Test]
    public void TheMessageNamesTheValue()
    {
        using var model = Built();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(model.Parameters, learningRate: PositiveNaN).Dispose());
        Assert.That(ex!.Message, Does.StartWith("learningRate must be a finite number of at least 0; got NaN."));
    }

    private static Linear Built()
    {
        var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        return model;
    }

    private static TestCaseData Case(string name, string parameter, float value, Func<ParameterCollection, IOptimizer> create) =>
        new TestCaseData(parameter, value, create).SetArgDisplayNames(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture) + (BitConverter.SingleToInt32Bits(value) == 0x7FC00000 ? " (sign bit clear)" : ""));
}
