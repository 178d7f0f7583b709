using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// A Conv1d's padding by a mode other than zeros (<see cref="ModePadding"/>): on a long input of many rows every padded
/// element is the element of x that <see cref="ReferenceModules.PaddedSource"/> names, and dx the float64 sum of the
/// gradients of the positions that copy each element; and the device memory it holds beyond the padded input and dx is
/// its map and the map's inverse, whatever the number of rows N·C.
/// </summary>
public sealed class ModePaddingTests
{
    private static readonly PaddingMode[] Modes = [PaddingMode.Reflect, PaddingMode.Replicate, PaddingMode.Circular];

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ALongInputOfManyRowsPadsAsTheReference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 3, channels = 7, length = 1000, left = 2, right = 3, padded = left + length + right;
        var random = new Random(43);
        var x = Enumerable.Range(0, n * channels * length).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var dy = Enumerable.Range(0, n * channels * padded).Select(_ => random.NextSingle() - 0.5f).ToArray();
        foreach (var mode in Modes)
        {
            using var padding = new ModePadding(mode, left, right);
            using var input = device.FromArray(x, n, channels, length);
            using var gradient = device.FromArray(dy, n, channels, padded);
            var y = padding.Forward(input).ToArray();
            var dx = padding.Backward(gradient).ToArray();

            var expectedDx = new double[x.Length];
            for (int r = 0; r < n * channels; r++)
            {
                for (int p = 0; p < padded; p++)
                {
                    int source = (r * length) + ReferenceModules.PaddedSource(p - left, length, mode);
                    Assert.That(y[(r * padded) + p], Is.EqualTo(x[source]), $"{mode}: row {r}, position {p}");
                    expectedDx[source] += dy[(r * padded) + p];
                }
            }

            Assert.That(dx, Is.EqualTo(expectedDx).Within(1e-5), $"{mode}: dx");
        }
    }

    [Test]
    public void TheDeviceMemoryBeyondThePaddedInputAndDxIsTheMapAndItsInverseWhateverTheRows()
    {
        using var device = Device.Create("cpu"); // its own, so that no other test's buffers count
        const int length = 50, left = 3, right = 4, padded = left + length + right;
        const long mapAndInverse = sizeof(int) * (padded + (length + 1) + padded);
        foreach (var mode in Modes)
        {
            foreach (var (n, channels) in new[] { (1, 1), (8, 16) })
            {
                using var padding = new ModePadding(mode, left, right);
                using var input = device.Zeros(n, channels, length);
                using var gradient = device.Zeros(n, channels, padded);
                long before = device.AllocatedBytes;
                _ = padding.Forward(input);
                _ = padding.Backward(gradient);
                long floats = sizeof(float) * (long)n * channels * (padded + length);
                Assert.That(device.AllocatedBytes - before - floats, Is.EqualTo(mapAndInverse), $"{mode}, N·C = {n * channels}: index bytes held");
            }
        }
    }
}
