using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Nn;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The gather of positions (output[r, p] = input[r, map[p]], one map for every row) and its backward through the map's
/// inverse, on every device against the float64 reference. The forward copies floats, so it must equal the reference
/// exactly; the backward adds the m copies of each position, so each element is held to (m + 1)·u·Σ|terms| (u the
/// float32 rounding unit, design.md, Tolerances), and, since it sums them in increasing order of p on every device, it
/// must also be exactly that float sum.
/// </summary>
public sealed class PositionGatherTests
{
    private const double U = 5.97e-8;

    // (rows, L, map): no rows; an empty map (every position of x gets 0); L = 1, every padded position a copy of it; one
    // position; the padding modes' maps (reflect, replicate, circular wrapping a whole length on each side); random maps,
    // where some positions are copied many times and some never.
    private static readonly (int Rows, int L, string Map)[] Shapes =
        [(0, 5, "reflect 2 2"), (3, 4, "empty"), (2, 1, "replicate 2 3"), (3, 1, "circular 1 1"), (1, 1, "replicate 0 0"),
         (3, 7, "reflect 2 3"), (2, 5, "replicate 4 1"), (4, 5, "circular 5 5"), (2, 9, "random 20"), (5, 3, "random 40")];

    // The cpu device also splits the rows across threads.
    private static readonly (int Rows, int L, string Map)[] CpuShapes = [(64, 300, "reflect 5 5"), (128, 100, "random 400")];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from s in device == "cpu" ? Shapes.Concat(CpuShapes) : Shapes
        select new TestCaseData(device, s.Rows, s.L, s.Map).SetArgDisplayNames(device, $"rows={s.Rows}", $"L={s.L}", s.Map);

    [TestCaseSource(nameof(Cases))]
    public void TheGatherEqualsTheReference(string deviceName, int rows, int length, string mapName)
    {
        var device = TestDevices.Get(deviceName);
        var map = Map(mapName, length);
        var inputData = Uniform(rows * length, (rows * 31) + length);
        var expected = new double[rows * map.Length];
        ReferencePositionGather.Forward(ToDouble(inputData), rows, length, map, expected);

        using var input = device.FromArray(inputData, rows, length);
        using var indices = device.IndexFromArray(map, map.Length);
        using var output = device.FromArray(Enumerable.Repeat(float.NaN, rows * map.Length).ToArray(), rows, map.Length);
        Ops.GatherPositions(input, indices, output);

        Assert.That(output.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)), "every element written, a copy of its source");
    }

    [TestCaseSource(nameof(Cases))]
    public void TheBackwardMatchesTheReferenceAndSumsInOrderOfPosition(string deviceName, int rows, int length, string mapName)
    {
        var device = TestDevices.Get(deviceName);
        var map = Map(mapName, length);
        var gradientData = Uniform(rows * map.Length, (rows * 37) + length);
        var expected = new double[rows * length];
        var magnitude = new double[rows * length];
        ReferencePositionGather.Backward(ToDouble(gradientData), rows, map, length, expected);
        ReferencePositionGather.Backward(Array.ConvertAll(gradientData, v => Math.Abs((double)v)), rows, map, length, magnitude);
        var copiesOf = new int[length];
        foreach (int source in map)
        {
            copiesOf[source]++;
        }

        var inOrder = new float[rows * length];
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < map.Length; p++)
            {
                inOrder[(r * length) + map[p]] += gradientData[(r * map.Length) + p];
            }
        }

        var (startsData, copiesData) = Inverse(map, length);
        using var gradient = device.FromArray(gradientData, rows, map.Length);
        using var starts = device.IndexFromArray(startsData, startsData.Length);
        using var copies = device.IndexFromArray(copiesData, copiesData.Length);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, rows * length).ToArray(), rows, length);
        Ops.GatherPositionsBackward(gradient, starts, copies, dx);

        var actual = dx.ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within((copiesOf[i % length] + 1) * U * magnitude[i]), $"dx[{i}]");
        }

        Assert.That(actual, Is.EqualTo(inOrder), "the float sum of each position's copies in increasing order of p, on every device");
        Assert.That(gradient.ToArray(), Is.EqualTo(gradientData), "the gradient must not be touched");
    }

    [Test]
    public void TheInverseListsEachPositionsCopiesInOrderAndRefusesAMapOutsideTheInput()
    {
        int[] map = [2, 1, 0, 1, 2, 3, 2, 0];
        var (starts, copies) = Inverse(map, 5);
        Assert.That(starts, Is.EqualTo(new[] { 0, 2, 4, 7, 8, 8 }), "position 4 is copied nowhere");
        Assert.That(copies, Is.EqualTo(new[] { 2, 7, 1, 3, 0, 4, 6, 5 }));

        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => Inverse([0, 5, 1], 5))!;
        Assert.That(outside.Message, Does.Contain("Index 5 at position 1 is outside [0, 5)").And.Not.Contain('\n'));
        var lengths = Assert.Throws<ArgumentException>(() => PositionGatherInverse.Build([0, 1], 2, new int[2], new int[2]))!;
        Assert.That(lengths.Message, Does.Contain("needs 3 starts and 2 copies; got 2 and 2").And.Not.Contain('\n'));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void BadShapesBuffersAndIndicesAreRefusedInOneLineBeforeAnythingIsWritten(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var input = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var output = device.FromArray(Enumerable.Repeat(7f, 8).ToArray(), 2, 4);
        using var map = device.IndexFromArray([0, 2, 1, 2], 4);
        using var outsideMap = device.IndexFromArray([0, 3, 1, 2], 4);
        using var starts = device.IndexFromArray([0, 1, 2, 4], 4);
        using var copies = device.IndexFromArray([0, 2, 1, 3], 4);
        using var outsideStarts = device.IndexFromArray([0, 1, 5, 4], 4);
        using var outsideCopies = device.IndexFromArray([0, 2, 4, 3], 4);
        using var shortStarts = device.IndexFromArray([0, 1, 4], 3);
        using var squareStarts = device.IndexFromArray([0, 1, 2, 3, 4], 5);
        using var flat = device.Zeros(8);
        Assert.DoesNotThrow(() => Ops.GatherPositions(input, map, output));
        Assert.That(output.ToArray(), Is.EqualTo(new[] { 1f, 3f, 2f, 3f, 4f, 6f, 5f, 6f }));
        Ops.Fill(output, 7f);
        Ops.Fill(input, 9f);

        void Refused<TException>(TestDelegate call, string named)
            where TException : Exception
        {
            // An ArgumentOutOfRangeException adds its actual value on a line of its own, after the one line.
            var e = Assert.Throws<TException>(call)!;
            string line = e is ArgumentOutOfRangeException ? e.Message.Split('\n')[0] : e.Message;
            Assert.That(line, Does.Contain(named).And.Not.Contain('\n'));
            Assert.That(output.ToArray(), Is.All.EqualTo(7f), $"{named}: the output is kept");
            Assert.That(input.ToArray(), Is.All.EqualTo(9f), $"{named}: the input gradient is kept");
        }

        Refused<ArgumentOutOfRangeException>(() => Ops.GatherPositions(input, outsideMap, output), "Index 3 at position 1 is outside [0, 3)");
        Refused<ArgumentException>(() => Ops.GatherPositions(input, map, flat), "need input [Rows, L] and output [Rows, 4]");
        Refused<ArgumentException>(() => Ops.GatherPositions(input, map, input.Reshape(3, 2)), "[2, 3]");
        Refused<ArgumentException>(() => Ops.GatherPositions(output, map, output), "separate buffers");
        Refused<ArgumentOutOfRangeException>(() => Ops.GatherPositionsBackward(output, outsideStarts, copies, input), "Index 5 at position 2 is outside [0, 5)");
        Refused<ArgumentOutOfRangeException>(() => Ops.GatherPositionsBackward(output, starts, outsideCopies, input), "Index 4 at position 2 is outside [0, 4)");
        Refused<ArgumentException>(() => Ops.GatherPositionsBackward(output, shortStarts, copies, input), "starts [3]");
        Refused<ArgumentException>(() => Ops.GatherPositionsBackward(flat, starts, copies, input), "need gradOutput [Rows, P]");
        Refused<ArgumentException>(() => Ops.GatherPositionsBackward(output, squareStarts, copies, output), "separate buffers");
    }

    // A map named as in the cases: "empty", a padding mode and its left and right padding, or "random P".
    private static int[] Map(string name, int length)
    {
        var parts = name.Split(' ');
        if (parts[0] == "empty")
        {
            return [];
        }

        if (parts[0] == "random")
        {
            var random = new Random(length);
            return [.. Enumerable.Range(0, int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)).Select(_ => random.Next(length))];
        }

        var mode = Enum.Parse<PaddingMode>(parts[0], ignoreCase: true);
        int left = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), right = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        return [.. Enumerable.Range(0, left + length + right).Select(p => ReferenceModules.PaddedSource(p - left, length, mode))];
    }

    private static (int[] Starts, int[] Copies) Inverse(int[] map, int length)
    {
        var starts = new int[length + 1];
        var copies = new int[map.Length];
        PositionGatherInverse.Build(map, length, starts, copies);
        return (starts, copies);
    }
}
