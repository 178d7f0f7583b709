using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Slice"/> along any dimension, as torch.narrow, on every device: Forward is the narrowed tensor exactly, and
/// Backward matches central finite differences in float64 of L = Σ w·narrow(x), with narrow written here by its
/// definition, y[o, j, i] = x[o, start + j, i] over the dimensions before, at and after dim.
/// </summary>
public sealed class SliceTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        (int[] Shape, int Dim, int Start, int Count)[] slices =
        [
            ([4, 3, 5], 1, -1, 1),  // the last step of a batch-first [B, T, H]
            ([4, 3, 5], 1, 0, 2),
            ([4, 3, 5], -1, 1, 3),  // the last dimension
            ([4, 3, 5], 0, -2, 2),  // the first: a view
            ([2, 3, 4, 5], 2, 1, 2),
            ([2, 3, 4, 5], -3, 2, 1),
            ([6, 7], 1, 2, 5),
            ([7], -1, 2, 3),
        ];
        foreach (var device in TestDevices.All)
        {
            foreach (var (shape, dim, start, count) in slices)
            {
                yield return new TestCaseData(device, shape, dim, start, count)
                    .SetArgDisplayNames(device, Tensor.FormatShape(shape), $"dim {dim}", $"start {start}", $"count {count}");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardNarrowsAndBackwardMatchesFiniteDifferences(string deviceName, int[] shape, int dim, int start, int count)
    {
        var device = TestDevices.Get(deviceName);
        using var slice = new Slice(start, count, dim);
        slice.Build(device);
        int d = dim < 0 ? shape.Length + dim : dim;
        int first = start < 0 ? shape[d] + start : start;
        int[] outputShape = [.. shape];
        outputShape[d] = count;

        // Two inputs of one shape (the second reuses the module's buffers), then the first again.
        for (int call = 0; call < 3; call++)
        {
            LayoutModuleCheck.AssertCall(slice, device, shape, outputShape, x => Narrow(x, shape, d, first, count), call);
        }
    }

    [Test]
    public void ADimOrARangeOutsideTheInputIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(4, 3, 5);
        using var beyond = new Slice(0, 1, dim: 3);
        using var before = new Slice(0, 1, dim: -4);
        using var tooLong = new Slice(1, 3, dim: 1);
        beyond.Build(device);
        before.Build(device);
        tooLong.Build(device);
        string[] messages =
        [
            Assert.Throws<ArgumentException>(() => beyond.Forward(x))!.Message,
            Assert.Throws<ArgumentException>(() => before.Forward(x))!.Message,
            Assert.Throws<ArgumentException>(() => tooLong.Forward(x))!.Message,
        ];
        Assert.That(messages[0], Does.StartWith("Slice dim 3 is outside the 3 dimensions of [4, 3, 5]."));
        Assert.That(messages[1], Does.StartWith("Slice dim -4 is outside the 3 dimensions of [4, 3, 5]."));
        Assert.That(messages[2], Does.StartWith("Slice [1, 1+3) is outside dimension 1 of [4, 3, 5]."));
        Assert.That(messages, Has.All.Not.Contain('\n'));
    }

    // torch.narrow(x, dim, start, count) of a row-major x.
    private static double[] Narrow(double[] x, int[] shape, int dim, int start, int count)
    {
        int outer = shape[..dim].Aggregate(1, (a, b) => a * b);
        int inner = shape[(dim + 1)..].Aggregate(1, (a, b) => a * b);
        int size = shape[dim];
        var y = new double[outer * count * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < count; j++)
            {
                for (int i = 0; i < inner; i++)
                {
                    y[(((o * count) + j) * inner) + i] = x[(((o * size) + start + j) * inner) + i];
                }
            }
        }

        return y;
    }
}
