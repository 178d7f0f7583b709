using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Frozen parameters (<see cref="Parameter.RequiresGradient"/> false, as requires_grad): optimizers and gradient
/// clipping leave them alone, and train the rest exactly as if the frozen values had been put back after every step.
/// </summary>
public sealed class FreezingTests
{
    public static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(p, 0.05f, weightDecay: 0.1f))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(p, 0.05f, weightDecay: 0.1f))).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f, momentum: 0.9f, weightDecay: 0.1f))).SetArgDisplayNames("Sgd");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.05f, weightDecay: 0.1f, momentum: 0.9f, centered: true))).SetArgDisplayNames("RMSprop");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void AnOptimizerTrainsTheRestAsIfTheFrozenValuesWereRestoredAfterEachStep(Func<ParameterCollection, IOptimizer> create)
    {
        var device = TestDevices.Get("cpu");
        using var frozen = Model(device);
        using var restored = Model(device);

        // The first layer's bias and the output layer frozen: two runs of trainable parameters around them.
        frozen[0].SetRequiresGradient(true);
        frozen.Parameters["0.bias"].RequiresGradient = false;
        frozen[2].SetRequiresGradient(false);
        Assert.That(frozen.Parameters.Parameters.Select(p => p.RequiresGradient), Is.EqualTo(new[] { true, false, false, false }));
        var kept = new[] { "0.bias", "2.weight", "2.bias" }.ToDictionary(n => n, n => restored.Parameters[n].Value.ToArray());

        var initial = frozen.Parameters["0.weight"].Value.ToArray();
        using var optimizer = create(frozen.Parameters);
        using var reference = create(restored.Parameters);
        for (int step = 0; step < 5; step++)
        {
            Step(frozen, optimizer, step);
            Step(restored, reference, step);
            foreach (var (name, values) in kept)
            {
                restored.Parameters[name].Value.CopyFrom(values);
            }
        }

        foreach (var (name, values) in kept)
        {
            Assert.That(frozen.Parameters[name].Value.ToArray(), Is.EqualTo(values), $"{name} is frozen");
        }

        Assert.That(frozen.Parameters["0.weight"].Value.ToArray(), Is.Not.EqualTo(initial), "the rest is trained");
        Assert.That(frozen.Parameters.Values.ToArray(), Is.EqualTo(restored.Parameters.Values.ToArray()));
    }

    [Test]
    public void ClippingLeavesFrozenGradientsOutOfTheNormAndUnscaled()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device);
        model[0].SetRequiresGradient(false);
        model.Parameters.ZeroGradients();
        using var x = device.FromArray([0.5f, -1f, 2f, 1f, 0.25f, -0.5f], 2, 3);
        using var target = device.FromArray([1f, -1f, 0.5f, 2f], 2, 2);
        using var loss = new MseLoss(Reduction.Sum);
        loss.Forward(model.Forward(x), target);
        model.Backward(loss.Backward());
        var before = model.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Gradient.ToArray());
        double expected = Math.Sqrt(new[] { "2.weight", "2.bias" }.Sum(n => before[n].Sum(g => (double)g * g)));

        double norm = GradientClipping.ClipGradientNorm(model.Parameters, expected / 4);

        Assert.That(norm, Is.EqualTo(expected).Within(1e-6 * expected));
        Assert.That(model.Parameters["0.weight"].Gradient.ToArray(), Is.EqualTo(before["0.weight"]), "a frozen gradient is not scaled");
        Assert.That(model.Parameters["2.weight"].Gradient.ToArray(), Is.EqualTo(before["2.weight"].Select(g => g * (float)(expected / 4 / (expected + 1e-6)))).Within(1e-6));
    }

    [Test]
    public void AStepWithFrozenParametersAllocatesNothingAndUnfreezingTrainsThemAgain()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device);
        using var adam = new Adam(model.Parameters, 0.05f);
        model[2].SetRequiresGradient(false);
        Step(model, adam, 0);
        GradientClipping.ClipGradientNorm(model.Parameters, 1.0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        adam.Step();
        GradientClipping.ClipGradientNorm(model.Parameters, 1.0);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by a step");

        var head = model.Parameters["2.weight"].Value.ToArray();
        model.SetRequiresGradient(true);
        Step(model, adam, 1);
        Assert.That(model.Parameters["2.weight"].Value.ToArray(), Is.Not.EqualTo(head));
        Assert.Throws<InvalidOperationException>(() => new Linear(2, 2).SetRequiresGradient(false), "an unbuilt module has no parameters yet");
    }

    internal static Sequential Model(Device device)
    {
        var model = new Sequential(new Linear(3, 4), new Tanh(), new Linear(4, 2));
        model.Build(device, seed: 7);
        return model;
    }

    internal static void Step(Sequential model, IOptimizer optimizer, int step)
    {
        using var x = model.Device.FromArray([.. Enumerable.Range(0, 12).Select(i => MathF.Sin(i + step))], 4, 3);
        using var target = model.Device.FromArray([.. Enumerable.Range(0, 8).Select(i => MathF.Cos(i * step))], 4, 2);
        using var loss = new MseLoss();
        optimizer.ZeroGradients();
        loss.Forward(model.Forward(x), target);
        model.Backward(loss.Backward());
        optimizer.Step();
    }
}
