using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Flatten"/>, nn.Flatten(): [N, ...] → [N, the rest], channel-major as in PyTorch, as a view of the input,
/// and its Backward gives dy back shaped as the input. In a Sequential after a Conv1d it is checked against central
/// finite differences in the module gradient tests and against PyTorch in the Conv1d module tests.
/// </summary>
public sealed class FlattenTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ItIsAViewOfTheInputAndBackwardShapesDyAsTheInput(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (float)i).ToArray();
        using var flatten = new Flatten();
        foreach (int[] shape in new[] { new[] { 2, 3, 4 }, new[] { 2, 3, 2, 2 }, new[] { 2, 12 } })
        {
            using var x = device.FromArray(values, shape);
            var y = flatten.Forward(x);
            Assert.That(y.Shape, Is.EqualTo(new[] { 2, 12 }), Tensor.FormatShape(shape));
            Assert.That(y.ToArray(), Is.EqualTo(values), "row n is sample n, element c·L + l is x[n, c, l]");
            Assert.That(ReferenceEquals(y.Storage, x.Storage) && y.Offset == x.Offset, Is.True, "a view, no copy");

            using var dy = device.FromArray([.. values.Select(v => -v)], 2, 12);
            var dx = flatten.Backward(dy);
            Assert.That(dx.Shape, Is.EqualTo(shape), "dx is shaped as the input");
            Assert.That(dx.ToArray(), Is.EqualTo(values.Select(v => -v).ToArray()));
        }
    }

    [Test]
    public void ARankOneInputIsRefusedInOneLineAndTheModuleGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var flatten = new Flatten();
        using var vector = device.Zeros(5);
        var e = Assert.Throws<ArgumentException>(() => flatten.Forward(vector))!;
        Assert.That(e.Message, Does.Contain("[5]").And.Not.Contain('\n'));
        using var x = device.Zeros(2, 3, 4);
        Assert.That(flatten.Forward(x).Shape, Is.EqualTo(new[] { 2, 12 }));
        using var wrong = device.Zeros(2, 11);
        Assert.That(Assert.Throws<ArgumentException>(() => flatten.Backward(wrong))!.Message, Does.Contain("[2, 12]").And.Contain("[2, 11]"));
    }
}
