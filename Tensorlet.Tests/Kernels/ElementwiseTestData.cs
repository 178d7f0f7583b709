using NUnit.Framework;

namespace Tensorlet.Tests.Kernels;

/// <summary>Seeded inputs and tolerance checks shared by the elementwise kernel tests.</summary>
internal static class ElementwiseTestData
{
    /// <summary>The awkward lengths every elementwise kernel is run at; cpu adds lengths past its threading threshold.</summary>
    public static int[] Lengths(string deviceName) =>
        deviceName == "cpu" ? [1, 7, 33, 127, 1000, 70_001] : [1, 7, 33, 127, 1000];

    /// <summary>n floats uniform in [lo, hi) from a fixed seed.</summary>
    public static float[] Uniform(int n, int seed, float lo = -1f, float hi = 1f)
    {
        var random = new System.Random(seed);
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = lo + ((hi - lo) * random.NextSingle());
        }

        return data;
    }

    public static double[] ToDouble(float[] x) => Array.ConvertAll(x, v => (double)v);

    /// <summary>
    /// Asserts that each element of a float sum of at most <paramref name="terms"/> terms is within (terms + 1)·u·Σ|terms|
    /// of the float64 sum (u the float32 rounding unit), <paramref name="magnitude"/> holding Σ|terms| element by element.
    /// </summary>
    public static void AssertWithinSumBound(float[] actual, double[] expected, double[] magnitude, int terms, string what = "")
    {
        const double U = 5.97e-8;
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within((terms + 1) * U * magnitude[i]), $"{what} element {i}");
        }
    }

    /// <summary>The floats <paramref name="kernel"/> writes over an array of <paramref name="length"/> NaNs, so that an element it leaves unwritten shows.</summary>
    public static float[] WrittenOverNaN(int length, Action<float[]> kernel)
    {
        var result = Enumerable.Repeat(float.NaN, length).ToArray();
        kernel(result);
        return result;
    }

    /// <summary>Asserts that two float arrays hold the same bits element by element (−0 is not +0, and NaNs compare by payload).</summary>
    public static void AssertSameBits(float[] actual, float[] expected, string what)
        => Assert.That(Array.ConvertAll(actual, BitConverter.SingleToInt32Bits), Is.EqualTo(Array.ConvertAll(expected, BitConverter.SingleToInt32Bits)), what);

    /// <summary>Asserts |actual − expected| ≤ abs + rel·|expected| element by element, naming the worst element.</summary>
    public static void AssertClose(float[] actual, double[] expected, double abs, double rel, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double excess = Math.Abs(actual[i] - expected[i]) - (abs + (rel * Math.Abs(expected[i])));
            if (!(excess <= worstExcess))
            {
                worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                worst = i;
            }
        }

        if (worst >= 0)
        {
            Assert.Fail($"{what}: element {worst} of {actual.Length} is {actual[worst]:R}, reference {expected[worst]:R}, |Δ| = {Math.Abs(actual[worst] - expected[worst]):E3} > {abs:E1} + {rel:E1}·|ref|.");
        }
    }
}
