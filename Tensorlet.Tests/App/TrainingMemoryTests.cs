using NUnit.Framework;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>
/// The app's memory estimate counts, per parameter, the weight, its gradient and the state the run's optimizer keeps:
/// adam's and adamw's two moments and their running maximum with amsgrad, sgd's momentum buffer only with momentum, rmsprop's mean square and its mean gradient
/// when centered and momentum buffer with momentum; the count is the one the library's optimizers save, and a run that
/// fits with sgd may not fit with adam.
/// </summary>
public sealed class TrainingMemoryTests
{
    private static readonly CharModelSpec Spec = CharModelSpec.Lstm(30, 64, 2, 0.5f);

    // Each optimizer, with and without what adds state (momentum; rmsprop's centered form, adam's and adamw's amsgrad),
    // and the float32 values of state it keeps per parameter.
    private static readonly object[] Optimizers =
    [
        new object[] { "adam", 0f, false, 2 },
        new object[] { "adam", 0f, true, 3 },
        new object[] { "adamw", 0f, false, 2 },
        new object[] { "adamw", 0f, true, 3 },
        new object[] { "sgd", 0f, false, 0 },
        new object[] { "sgd", 0.9f, false, 1 },
        new object[] { "rmsprop", 0f, false, 1 },
        new object[] { "rmsprop", 0f, true, 2 },
        new object[] { "rmsprop", 0.9f, false, 2 },
        new object[] { "rmsprop", 0.9f, true, 3 },
    ];

    [TestCaseSource(nameof(Optimizers))]
    public void TheEstimateCountsTheStateOfTheRunsOptimizer(string optimizer, float momentum, bool form, int stateFloats)
    {
        var settings = Settings(optimizer, momentum, form);
        Assert.That(RunOptimizer.StateFloatsPerParameter(settings), Is.EqualTo(stateFloats));

        double estimate = TrainingMemory.Estimate(Spec, 100, 99, RunOptimizer.StateFloatsPerParameter(settings));
        double withoutState = TrainingMemory.Estimate(Spec, 100, 99, 0);

        Assert.That(estimate - withoutState, Is.EqualTo(Spec.ParameterCount() * stateFloats * sizeof(float)));
    }

    // The count is what the optimizer the run makes keeps: the values of its saved state, per parameter.
    [TestCaseSource(nameof(Optimizers))]
    public void TheStateCountedIsTheStateTheOptimizerKeeps(string optimizer, float momentum, bool form, int stateFloats)
    {
        var settings = Settings(optimizer, momentum, form);
        using var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        using var made = RunOptimizer.Create(settings, model.Parameters);

        long saved = made switch
        {
            Adam adam => adam.SaveState() is var s ? s.FirstMoment.Length + s.SecondMoment.Length + (s.MaxSecondMoment?.Length ?? 0) : 0,
            AdamW adamW => adamW.SaveState() is var s ? s.FirstMoment.Length + s.SecondMoment.Length + (s.MaxSecondMoment?.Length ?? 0) : 0,
            Sgd sgd => sgd.SaveState().MomentumBuffer?.Length ?? 0,
            RMSprop rmsprop => rmsprop.SaveState() is var s ? s.SquareAverage.Length + (s.GradientAverage?.Length ?? 0) + (s.MomentumBuffer?.Length ?? 0) : 0,
            _ => throw new AssertionException($"no count for {made.GetType().Name}"),
        };

        Assert.That(saved, Is.EqualTo(model.Parameters.Length * RunOptimizer.StateFloatsPerParameter(settings)));
        Assert.That(saved, Is.EqualTo(model.Parameters.Length * stateFloats));
    }

    // The run's settings of the optimizer, with the form that adds state: rmsprop's centered, adam's and adamw's amsgrad.
    private static TrainSettings Settings(string optimizer, float momentum, bool form)
        => new() { Optimizer = optimizer, Momentum = momentum, Centered = form && optimizer == "rmsprop", Amsgrad = form && optimizer != "rmsprop" };

    // A limit between the two estimates: the run fits with sgd without momentum (weights and gradients only) and is
    // refused with adam (two moments more per parameter).
    [Test]
    public void ARunThatFitsWithSgdIsRefusedWithAdam()
    {
        var train = new SequenceBatchSource(new int[10 * 100], 100);
        var sgd = new TrainSettings { Optimizer = "sgd", Batch = 10 };
        var adam = new TrainSettings { Optimizer = "adam", Batch = 10 };
        double sgdNeeds = TrainingMemory.Estimate(Spec, 10, train.RowsPerExample, RunOptimizer.StateFloatsPerParameter(sgd));
        double adamNeeds = TrainingMemory.Estimate(Spec, 10, train.RowsPerExample, RunOptimizer.StateFloatsPerParameter(adam));
        long limit = (long)((sgdNeeds + adamNeeds) / 2);

        Assert.DoesNotThrow(() => TrainingMemory.Check(Spec, sgd, train, limit));
        var refused = Assert.Throws<ArgumentException>(() => TrainingMemory.Check(Spec, adam, train, limit));
        Assert.That(refused!.Message, Does.StartWith("Training this LSTM with batches of 10 needs about").And.Contain("GiB; this process may use"));
    }
}
