using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>The library's optimizers derive from <see cref="Optimizer"/>, whose members over the parameter groups behave alike for each.</summary>
public sealed class OptimizerBaseTests
{
    private static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<ParameterGroup[], Optimizer>)(g => new Adam(g, 0.1f))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterGroup[], Optimizer>)(g => new AdamW(g, 0.1f))).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterGroup[], Optimizer>)(g => new Sgd(g, 0.1f, momentum: 0.9f))).SetArgDisplayNames("Sgd");
        yield return new TestCaseData((Func<ParameterGroup[], Optimizer>)(g => new RMSprop(g, 0.1f, centered: true))).SetArgDisplayNames("RMSprop");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void EveryOptimizerIsAnOptimizerWhoseSharedMembersBehaveAlike(Func<ParameterGroup[], Optimizer> create)
    {
        using var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using var optimizer = create([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.5f }]);

        Assert.That(optimizer.Parameters, Is.SameAs(model.Parameters));
        Assert.That((optimizer.GroupCount, optimizer.LearningRate, optimizer.GetLearningRate(1)), Is.EqualTo((2, 0.1f, 0.5f)));
        optimizer.SetLearningRate(1, 0.25f);
        Assert.That((optimizer.LearningRate, optimizer.GetLearningRate(1)), Is.EqualTo((0.1f, 0.25f)));
        optimizer.LearningRate = 0.2f;
        Assert.That((optimizer.GetLearningRate(0), optimizer.GetLearningRate(1)), Is.EqualTo((0.2f, 0.2f)), "every group's");
        Assert.That(optimizer.GetInitialLearningRate(1), Is.Null);
        optimizer.SetInitialLearningRate(1, 0.3f);
        Assert.That((optimizer.GetInitialLearningRate(0), optimizer.GetInitialLearningRate(1)), Is.EqualTo(((float?)null, (float?)0.3f)));

        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.GetLearningRate(2))!.Message, Does.StartWith("The optimizer has 2 parameter groups; got group 2."));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.SetLearningRate(0, -1f))!.ParamName, Is.EqualTo("learningRate"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.SetInitialLearningRate(0, float.NaN))!.ParamName, Is.EqualTo("learningRate"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.LearningRate = float.PositiveInfinity)!.ParamName, Is.EqualTo("LearningRate"));
        Assert.That((optimizer.GetLearningRate(0), optimizer.GetLearningRate(1)), Is.EqualTo((0.2f, 0.2f)), "a refused rate changes nothing");

        int n = (int)model.Parameters.Length;
        model.Parameters.Gradients.CopyFrom(Enumerable.Repeat(1f, n).ToArray());
        optimizer.Step();
        optimizer.Step();
        Assert.That(optimizer.StepCount, Is.EqualTo(2));
        optimizer.ZeroGradients();
        Assert.That(model.Parameters.Gradients.ToArray(), Is.All.EqualTo(0f));
    }
}
