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

    private static IEnumerable<TestCaseData> ShapesWithAndWithoutBias() =>
        from shape in Shapes()
        from bias in new[] { false, true }
        select new TestCaseData([.. shape.Arguments, bias]);

    [TestCaseSource(nameof(ShapesWithAndWithoutBias))]
    public void GatherColumnsEqualsTheOneHotProduct(string deviceName, int n, int outFeatures, int inFeatures, bool withBias)
    {
        var device = TestDevices.Get(deviceName);
        var weightData = Uniform(outFeatures * inFeatures, n + outFeatures);
        var biasData = Uniform(outFeatures, n + (2 * outFeatures));
        var indexData = Indices(n, inFeatures, inFeatures);
        var expected = new double[n * outFeatures];
        ReferenceGatherScatter.GatherColumns(ToDouble(weightData), outFeatures, inFeatures, indexData, expected, withBias ? ToDouble(biasData) : default);

        using var weight = device.FromArray(weightData, outFeatures, inFeatures);
        using var indices = device.IndexFromArray(indexData, n);
        using var bias = withBias ? device.FromArray(biasData, outFeatures) : null;
        using var output = device.Zeros(n, outFeatures);
        Ops.GatherColumns(weight, indices, output, bias);

        // A lookup copies floats, and w + b of two floats is exact in float64: the float result is the reference rounded once.
        Assert.That(output.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void GatherColumnsTakesABiasRowAsAddBiasDoes(string deviceName)
    {
        // A [1, Out] bias (the LSTM's combined b_ih + b_hh) gives the floats of a gather followed by AddBias.
        var device = TestDevices.Get(deviceName);
        const int n = 6, outFeatures = 9, inFeatures = 2;
        using var weight = device.FromArray(Uniform(outFeatures * inFeatures, 12), outFeatures, inFeatures);
        using var indices = device.IndexFromArray(Indices(n, inFeatures, 13), n);
        using var bias = device.FromArray(Uniform(outFeatures, 14), 1, outFeatures);
        using var fused = device.Zeros(n, outFeatures);
        using var separate = device.Zeros(n, outFeatures);

        Ops.GatherColumns(weight, indices, fused, bias);
        Ops.GatherColumns(weight, indices, separate);
        Ops.AddBias(separate, bias);

        Assert.That(fused.ToArray(), Is.EqualTo(separate.ToArray()));
    }

    private static IEnumerable<TestCaseData> DevicesAndBadBiases() =>
        from device in TestDevices.All
        from bad in new[] { "short", "long", "other-device" }
        select new TestCaseData(device, bad).SetArgDisplayNames(device, bad);

    [TestCaseSource(nameof(DevicesAndBadBiases))]
    public void ABiasOfTheWrongLengthOrDeviceThrowsAndWritesNothing(string deviceName, string bad)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 3, outFeatures = 4, inFeatures = 3;
        var outputBefore = Uniform(n * outFeatures, 15);
        using var weight = device.FromArray(Uniform(outFeatures * inFeatures, 16), outFeatures, inFeatures);
        using var indices = device.IndexFromArray([0, 2, 1], n);
        using var output = device.FromArray(outputBefore, n, outFeatures);
        var biasDevice = bad == "other-device" ? TestDevices.Get(deviceName == "cpu" ? "ilgpu-cpu" : "cpu") : device;
        int biasLength = bad switch { "short" => outFeatures - 1, "long" => outFeatures + 1, _ => outFeatures };
        using var bias = biasDevice.FromArray(Uniform(biasLength, 17), biasLength);

        if (bad == "other-device")
        {
            var ex = Assert.Throws<InvalidOperationException>(() => Ops.GatherColumns(weight, indices, output, bias));
            Assert.That(ex!.Message, Does.Contain("GatherColumns mixes devices").And.Contain(biasDevice.Name));
        }
        else
        {
            var ex = Assert.Throws<ArgumentException>(() => Ops.GatherColumns(weight, indices, output, bias));
            Assert.That(ex!.Message, Does.Contain("GatherColumns").And.Contain($"bias is [{biasLength}]").And.Contain($"need a bias of {outFeatures} elements"));
        }

        Assert.That(output.ToArray(), Is.EqualTo(outputBefore), "the gather's output is untouched");
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

    private static IEnumerable<TestCaseData> DevicesAndBadIndices() =>
        from device in TestDevices.All
        from bad in new[] { -1, 3 }
        select new TestCaseData(device, bad).SetArgDisplayNames(device, $"index={bad}");

    [TestCaseSource(nameof(DevicesAndBadIndices))]
    public void AnIndexOutsideTheWeightThrowsNamingItAndWritesNothing(string deviceName, int bad)
    {
        // In = 3, so -1 and 3 are the nearest indices outside [0, In).
        var device = TestDevices.Get(deviceName);
        const int n = 3, outFeatures = 4, inFeatures = 3;
        var outputBefore = Uniform(n * outFeatures, 1);
        var gradWeightBefore = Uniform(outFeatures * inFeatures, 2);
        using var weight = device.FromArray(Uniform(outFeatures * inFeatures, 3), outFeatures, inFeatures);
        using var gradOutput = device.FromArray(Uniform(n * outFeatures, 4), n, outFeatures);
        using var indices = device.IndexFromArray([0, bad, 2], n);
        using var output = device.FromArray(outputBefore, n, outFeatures);
        using var gradWeight = device.FromArray(gradWeightBefore, outFeatures, inFeatures);

        var gather = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherColumns(weight, indices, output));
        var scatter = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.ScatterAddColumns(gradOutput, indices, gradWeight));

        foreach (var ex in new[] { gather!, scatter! })
        {
            Assert.That(ex.Message, Is.EqualTo($"Index {bad} at position 1 is outside [0, 3). (Parameter 'indices')"), "one line names the value, its position and the range");
        }

        Assert.That(output.ToArray(), Is.EqualTo(outputBefore), "the gather's output is untouched");
        Assert.That(gradWeight.ToArray(), Is.EqualTo(gradWeightBefore), "the scatter's gradient is untouched");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ABadIndexWrittenThroughAViewIsFoundThroughItsOwner(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var weight = device.FromArray(Uniform(4 * 3, 5), 4, 3);
        using var indices = device.IndexZeros(4);
        using var output = device.Zeros(4, 4);
        using (var view = indices.Slice(2, 1))
        {
            view.CopyFrom([7]);
        }

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherColumns(weight, indices, output));
        Assert.That(ex!.Message, Does.Contain("Index 7 at position 2"));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ValidIndicesInASliceOfABufferHoldingBadOnesWork(string deviceName)
    {
        // The slice [1, 4) holds valid indices; the elements around it do not, as in a reused batch buffer.
        var device = TestDevices.Get(deviceName);
        const int outFeatures = 5, inFeatures = 3;
        var weightData = Uniform(outFeatures * inFeatures, 6);
        var gradData = Uniform(3 * outFeatures, 7);
        var initial = Uniform(outFeatures * inFeatures, 8);
        using var weight = device.FromArray(weightData, outFeatures, inFeatures);
        using var all = device.IndexFromArray([-4, 2, 0, 2, 9], 5);
        using var indices = all.Slice(1, 3);
        using var output = device.Zeros(3, outFeatures);
        var expected = new double[3 * outFeatures];
        ReferenceGatherScatter.GatherColumns(ToDouble(weightData), outFeatures, inFeatures, [2, 0, 2], expected);

        Ops.GatherColumns(weight, indices, output);

        Assert.That(output.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
        AssertScatterMatches(device, 3, outFeatures, inFeatures, gradData, [2, 0, 2], initial, indices);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ACopyIntoPartOfABufferMakesThatPartUsableAndTheRestStillChecked(string deviceName)
    {
        // A partial last batch: new, valid indices over the start of a buffer that held bad ones.
        var device = TestDevices.Get(deviceName);
        using var weight = device.FromArray(Uniform(2 * 3, 9), 2, 3);
        using var all = device.IndexFromArray([5, 5, 5, 5], 4);
        using var head = all.Slice(0, 2);
        head.CopyFrom([1, 2]);
        using var headOutput = device.Zeros(2, 2);
        using var allOutput = device.Zeros(4, 2);

        Ops.GatherColumns(weight, head, headOutput);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherColumns(weight, all, allOutput));

        Assert.That(ex!.Message, Does.Contain("Index 5 at position 2"));
    }

    [Test]
    public void CpuKernelsRejectABadIndexOrBiasThemselves()
    {
        // The kernel-level contract, below the ops' checks: called directly, the cpu kernels throw before writing.
        var device = TestDevices.Get("cpu");
        var outputBefore = Uniform(2 * 4, 10);
        using var weight = device.FromArray(Uniform(4 * 3, 11), 4, 3);
        using var indices = device.IndexFromArray([0, 3], 2);
        using var validIndices = device.IndexFromArray([0, 2], 2);
        using var shortBias = device.FromArray(Uniform(3, 12), 3);
        using var output = device.FromArray(outputBefore, 2, 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => device.Backend.GatherColumns(weight, indices, output, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Backend.ScatterAddColumns(output, indices, weight));
        Assert.Throws<ArgumentException>(() => device.Backend.GatherColumns(weight, validIndices, output, shortBias));
        Assert.That(output.ToArray(), Is.EqualTo(outputBefore));
    }

    private static void AssertScatterMatches(Device device, int n, int outFeatures, int inFeatures, float[] gradData, int[] indexData, float[] initial, IndexTensor? indices = null)
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
        using var ownIndices = indices is null ? device.IndexFromArray(indexData, n) : null;
        using var gradWeight = device.FromArray(initial, outFeatures, inFeatures);
        Ops.ScatterAddColumns(gradOutput, indices ?? ownIndices!, gradWeight);
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
