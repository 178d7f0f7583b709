using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// A Conv1d's padding by a mode other than zeros (<see cref="ModePadding"/>) on an input whose index map is longer
/// than the host stages at once: every padded element is the element of x that <see cref="ReferenceModules.PaddedSource"/>
/// names, and dx the float64 sum of the gradients of the positions that copy each element, across the chunks' seams,
/// while the host keeps at most one chunk of indices.
/// </summary>
public sealed class ModePaddingTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AMapLongerThanOneStagedChunkPadsAsTheReferenceAndKeepsOneChunkOnTheHost(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 3, channels = 7, length = 1000, left = 2, right = 3, padded = left + length + right;
        Assert.That(n * channels * padded, Is.GreaterThan(ModePadding.StageChunk), "the map takes more than one chunk");
        var random = new Random(43);
        var x = Enumerable.Range(0, n * channels * length).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var dy = Enumerable.Range(0, n * channels * padded).Select(_ => random.NextSingle() - 0.5f).ToArray();
        foreach (var mode in new[] { PaddingMode.Reflect, PaddingMode.Replicate, PaddingMode.Circular })
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
            Assert.That(padding.StagedCapacity, Is.LessThanOrEqualTo(ModePadding.StageChunk), $"{mode}: indices held on the host");
        }
    }
}
