using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class GatherScatterTests
{
    // float32 rounding unit.
    private const double U = 5.97e-8;

    private static IEnumerable<TestCaseData> Shapes()
    {
        // (N, Out, In). The cpu kernels pick a transposed path when N ≥ 2·In and a strided one otherwise: both are covered.
        (int N, int Out, int In)[] small = [(1, 1, 1), (7, 33, 5), (127, 13, 32), (40, 17, 100), (33, 7, 1)];
        (int N, int Out, int In)[] large = [(2000, 1024, 32), (100, 100, 4700), (1000, 130, 3)];
        foreach (var device in TestDevices.All)
        {
            foreach (var (n, outFeatures, inFeatures) in device == "cpu" ? small.Concat(large) : small)
            {
                yield return new TestCaseData(device, n, outFeatures, inFeatures);
            }
        }
    }

    private static int[] Indices(int n, int inFeatures, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => random.Next(inFeatures)).ToArray();
    }

    [TestCaseSource(nameof(Shapes))]
    public void GatherColumnsEqualsTheOneHotProduct(string deviceName, int n, int outFeatures, int inFeatures)
    {
        var device = TestDevices.Get(deviceName);
        var weightData = Uniform(outFeatures * inFeatures, n + outFeatures);
        var indexData = Indices(n, inFeatures, inFeatures);
        var expected = new double[n * outFeatures];
        ReferenceGatherScatter.GatherColumns(ToDouble(weightData), outFeatures, inFeatures, indexData, expected);

        using var weight = device.FromArray(weightData, outFeatures, inFeatures);
        using var indices = device.IndicesFromArray(indexData, n);
        using var output = device.Zeros(n, outFeatures);
        Ops.GatherColumns(weight, indices, output);

        // A lookup copies floats: exact.
        Assert.That(output.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
    }

    [TestCaseSource(nameof(Shapes))]
    public void ScatterAddColumnsEqualsTheOneHotProductAndAccumulates(string deviceName, int n, int outFeatures, int inFeatures)
    {
        var device = TestDevices.Get(deviceName);
        var gradData = Uniform(n * outFeatures, 3 * n + outFeatures);
        var indexData = Indices(n, inFeatures, inFeatures + 1);
        var initial = Uniform(outFeatures * inFeatures, outFeatures);
        AssertScatterMatches(device, n, outFeatures, inFeatures, gradData, indexData, initial);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ScatterAddColumnsSumsEveryRowThatRepeatsAnIndex(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 300, outFeatures = 5, inFeatures = 4;
        var gradData = Uniform(n * outFeatures, 11);
        var indexData = Enumerable.Repeat(2, n).ToArray();
        indexData[17] = 0;
        AssertScatterMatches(device, n, outFeatures, inFeatures, gradData, indexData, new float[outFeatures * inFeatures]);
    }

    [Test]
    public void CpuRejectsAnIndexOutsideTheWeight()
    {
        var device = TestDevices.Get("cpu");
        using var weight = device.Zeros(4, 3);
        using var indices = device.IndicesFromArray([0, 3], 2);
        using var output = device.Zeros(2, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherColumns(weight, indices, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.ScatterAddColumns(output, indices, weight));
    }

    private static void AssertScatterMatches(Device device, int n, int outFeatures, int inFeatures, float[] gradData, int[] indexData, float[] initial)
    {
        var expected = ToDouble(initial);
        ReferenceGatherScatter.ScatterAddColumns(ToDouble(gradData), indexData, expected, outFeatures, inFeatures);

        // Each gradWeight element is a float sum of k terms (its initial value and the k − 1 rows that pick its column),
        // in an order each kernel chooses: |Δ| ≤ (k − 1)·u·Σ|terms| for any order of summation.
        var counts = new int[inFeatures];
        foreach (var c in indexData)
        {
            counts[c]++;
        }

        var bound = new double[outFeatures * inFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            for (int c = 0; c < inFeatures; c++)
            {
                bound[(o * inFeatures) + c] = Math.Abs(initial[(o * inFeatures) + c]);
            }

            for (int i = 0; i < n; i++)
            {
                bound[(o * inFeatures) + indexData[i]] += Math.Abs(gradData[(i * outFeatures) + o]);
            }

            for (int c = 0; c < inFeatures; c++)
            {
                bound[(o * inFeatures) + c] *= counts[c] * U;
            }
        }

        using var gradOutput = device.FromArray(gradData, n, outFeatures);
        using var indices = device.IndicesFromArray(indexData, n);
        using var gradWeight = device.FromArray(initial, outFeatures, inFeatures);
        Ops.ScatterAddColumns(gradOutput, indices, gradWeight);
        var actual = gradWeight.ToArray();
        for (int e = 0; e < actual.Length; e++)
        {
            // Plus half an ulp for the final rounding to float.
            if (!(Math.Abs(actual[e] - expected[e]) <= bound[e] + (U * Math.Abs(expected[e]))))
            {
                Assert.Fail($"gradWeight[{e / inFeatures}, {e % inFeatures}] = {actual[e]:R}, reference {expected[e]:R}, bound {bound[e]:E2}, for N={n}, Out={outFeatures}, In={inFeatures}");
            }
        }
    }
}
