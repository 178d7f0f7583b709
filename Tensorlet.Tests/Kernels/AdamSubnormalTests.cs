using NUnit.Framework;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Kernels;

public sealed class AdamSubnormalTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void MomentsThatDecayBelowTheSmallestNormalFloatBecomeZero(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 37;
        const float smallM = 1.2e-38f; // β1·smallM = 1.08e-38 is subnormal (below 2^-126 ≈ 1.1755e-38)
        const float smallV = 1.176e-38f; // β2·smallV = 1.1748e-38 is subnormal
        using var parameters = device.FromArray(Enumerable.Repeat(0.5f, n).ToArray(), n);
        using var gradients = device.Zeros(n);
        using var m = device.FromArray(Enumerable.Repeat(smallM, n).ToArray(), n);
        using var v = device.FromArray(Enumerable.Repeat(smallV, n).ToArray(), n);
        Ops.AdamStep(parameters, gradients, m, v, parameters, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, amsgrad: false, step: 900);
        Assert.That(m.ToArray(), Has.All.EqualTo(0f));
        Assert.That(v.ToArray(), Has.All.EqualTo(0f));

        // The flushed moments moved the parameter by less than its rounding: it is unchanged.
        Assert.That(parameters.ToArray(), Has.All.EqualTo(0.5f));

        // Normal moments are untouched by the flush.
        m.CopyFrom(Enumerable.Repeat(1e-3f, n).ToArray());
        Ops.AdamStep(parameters, gradients, m, v, parameters, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, amsgrad: false, step: 901);
        Assert.That(m.ToArray(), Has.All.EqualTo(0.9f * 1e-3f).Within(1e-12f));
    }
}
