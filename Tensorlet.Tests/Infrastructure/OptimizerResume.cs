using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Nn;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// The check that an optimizer's saved state resumes training exactly: FreezingTests' model trained 3 steps, its weights
/// copied into a second model whose fresh optimizer takes the state through <c>transfer</c>, then 3 more steps of each.
/// </summary>
internal static class OptimizerResume
{
    /// <summary>
    /// Asserts that the resumed run's weights are the uninterrupted run's, bit for bit; <paramref name="transfer"/> takes
    /// (trained, fresh) and carries the state, <paramref name="afterwards"/> checks both optimizers after the 6 steps.
    /// </summary>
    public static void AssertContinuesExactly<TOptimizer>(Func<ParameterCollection, TOptimizer> create, Action<TOptimizer, TOptimizer> transfer, Action<TOptimizer, TOptimizer> afterwards)
        where TOptimizer : Optimizer
    {
        var device = TestDevices.Get("cpu");
        using var trained = FreezingTests.Model(device);
        using var resumed = FreezingTests.Model(device);
        using var optimizer = create(trained.Parameters);
        for (int step = 0; step < 3; step++)
        {
            FreezingTests.Step(trained, optimizer, step);
        }

        resumed.Parameters.Values.CopyFrom(trained.Parameters.Values.ToArray());
        using var fresh = create(resumed.Parameters);
        transfer(optimizer, fresh);
        for (int step = 3; step < 6; step++)
        {
            FreezingTests.Step(trained, optimizer, step);
            FreezingTests.Step(resumed, fresh, step);
        }

        Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(trained.Parameters.Values.ToArray()));
        afterwards(optimizer, fresh);
    }
}
