using System.Runtime.Intrinsics;
using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class DropoutTests
{
    // Random123's known-answer vectors for Philox4x32-10 (kat_vectors), confirmed here with an independent Python implementation.
    [TestCase(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [TestCase(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [TestCase(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void PhiloxMatchesTheKnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
        => Assert.That(Philox.Generate(c0, c1, c2, c3, k0, k1), Is.EqualTo(new PhiloxBlock(r0, r1, r2, r3)));

    [Test]
    public void VectorPhiloxMatchesTheScalarOne()
    {
        foreach (var (firstBlock, seed, stream) in new[] { (0UL, 0UL, 0UL), (8UL, 42UL, 7UL), (0xFFFF_FFF8UL, ulong.MaxValue, 1UL << 40), (0x1234_5678_9ABC_DEF0UL, 0xDEAD_BEEF_0000_0001UL, ulong.MaxValue) })
        {
            var c = new[] { Vector512.Create((ulong)(uint)firstBlock) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7), Vector512.Create(firstBlock >> 32), Vector512.Create((ulong)(uint)stream), Vector512.Create(stream >> 32) };
            PhiloxVector.Generate(ref c[0], ref c[1], ref c[2], ref c[3], (uint)seed, (uint)(seed >> 32));
            var d = new[] { Vector256.Create((ulong)(uint)firstBlock) + Vector256.Create(0UL, 1, 2, 3), Vector256.Create(firstBlock >> 32), Vector256.Create((ulong)(uint)stream), Vector256.Create(stream >> 32) };
            PhiloxVector.Generate(ref d[0], ref d[1], ref d[2], ref d[3], (uint)seed, (uint)(seed >> 32));
            var q = new[] { Vector128.Create((ulong)(uint)firstBlock) + Vector128.Create(0UL, 1), Vector128.Create(firstBlock >> 32), Vector128.Create((ulong)(uint)stream), Vector128.Create(stream >> 32) };
            PhiloxVector.Generate(ref q[0], ref q[1], ref q[2], ref q[3], (uint)seed, (uint)(seed >> 32));
            for (int j = 0; j < 8; j++)
            {
                var expected = Philox.Block(seed, stream, firstBlock + (ulong)j);
                Assert.That(new PhiloxBlock((uint)c[0][j], (uint)c[1][j], (uint)c[2][j], (uint)c[3][j]), Is.EqualTo(expected), $"Vector512 lane {j} of block {firstBlock:X}");
                if (j < 4)
                {
                    Assert.That(new PhiloxBlock((uint)d[0][j], (uint)d[1][j], (uint)d[2][j], (uint)d[3][j]), Is.EqualTo(expected), $"Vector256 lane {j} of block {firstBlock:X}");
                }

                if (j < 2)
                {
                    Assert.That(new PhiloxBlock((uint)q[0][j], (uint)q[1][j], (uint)q[2][j], (uint)q[3][j]), Is.EqualTo(expected), $"Vector128 lane {j} of block {firstBlock:X}");
                }
            }
        }
    }

    [Test]
    public void EveryElementTakesItsOwnWord()
    {
        // The element ↔ (block, word) map is a bijection, and the first n elements use only the first 8·⌈n/32⌉ blocks.
        var seen = new HashSet<(ulong, int)>();
        for (ulong e = 0; e < 1000; e++)
        {
            ulong block = Philox.BlockOfElement(e);
            int word = Philox.WordOfElement(e);
            Assert.That(seen.Add((block, word)), Is.True, $"element {e}");
            Assert.That(Philox.ElementOf(block, word), Is.EqualTo(e));
            Assert.That(block, Is.LessThan((e / 32 * 8) + 8));
        }
    }

    [Test]
    public void UniformsCoverTheUnitIntervalExactly()
    {
        Assert.That(Philox.ToUniform(0), Is.Zero);
        Assert.That(Philox.ToUniform(uint.MaxValue), Is.EqualTo(1f - (1f / 16777216f)));
        Assert.That(Philox.ToUniform(uint.MaxValue), Is.LessThan(1f));
    }

    [Test]
    public void ReferenceBackwardMatchesCentralDifferences()
    {
        // Dropout is linear in x, so for L = Σ dy·dropout(x) the gradient is dropout(dy) with the same mask.
        const double h = 1e-6;
        const float p = 0.4f;
        var x = ToDouble(Uniform(100, 1));
        var dy = ToDouble(Uniform(100, 2));
        var analytic = new double[x.Length];
        ReferenceDropout.Apply(dy, analytic, p, 5, 9);
        var plus = new double[x.Length];
        var minus = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var xp = (double[])x.Clone();
            var xm = (double[])x.Clone();
            xp[i] += h;
            xm[i] -= h;
            ReferenceDropout.Apply(xp, plus, p, 5, 9);
            ReferenceDropout.Apply(xm, minus, p, 5, 9);
            double numeric = 0;
            for (int j = 0; j < x.Length; j++)
            {
                numeric += dy[j] * (plus[j] - minus[j]) / (2 * h);
            }

            double relative = Math.Abs(analytic[i] - numeric) / Math.Max(Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric)), 1e-8);
            Assert.That(relative, Is.LessThan(1e-6), $"element {i}: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void DropoutMatchesTheReferenceInPlaceOrNot(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (float p in new[] { 0.1f, 0.5f, 0.9f })
        {
            foreach (int n in Lengths(deviceName))
            {
                var data = Uniform(n, n, -4f, 4f);
                var expected = new double[n];
                ReferenceDropout.Apply(ToDouble(data), expected, p, 1234, 7);
                using var x = device.FromArray(data, n);
                using var y = device.Zeros(n);
                Ops.Dropout(x, y, p, 1234, 7);

                // x·(1/(1 − p) rounded to float), rounded: two roundings, ≤ 2 ulps relative.
                AssertClose(y.ToArray(), expected, 0, 1.2e-7, $"p={p} n={n}");
                Ops.Dropout(x, x, p, 1234, 7);
                AssertClose(x.ToArray(), expected, 0, 1.2e-7, $"in place p={p} n={n}");
            }
        }
    }

    /// <summary>The CPU dropout at each register width the machine runs (Vector128 is ARM64's fast path, checked here on x86).</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuDropoutMatchesTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        foreach (int n in Lengths("cpu"))
        {
            var data = Uniform(n, n + 3, -4f, 4f);
            var expected = new double[n];
            ReferenceDropout.Apply(ToDouble(data), expected, 0.3f, 99, 5);
            var y = new float[n];
            CpuDropout.Apply(data, y, 0.3f, 99, 5, 2, width);
            AssertClose(y, expected, 0, 1.2e-7, $"{width} n={n}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ZeroProbabilityIsTheIdentity(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var data = Uniform(1000, 3);
        using var x = device.FromArray(data, 1000);
        using var y = device.Zeros(1000);
        Ops.Dropout(x, y, 0f, 42, 0);
        Assert.That(y.ToArray(), Is.EqualTo(data));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Ilgpu))]
    public void IlgpuDevicesDrawTheCpuMaskBitForBit(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var cpu = TestDevices.Get("cpu");
        const int n = 4099;
        var data = Uniform(n, 8, -2f, 2f);
        foreach (var (seed, stream) in new[] { (0UL, 0UL), (0xDEADBEEFCAFEUL, 3UL), (ulong.MaxValue, 1UL << 40) })
        {
            using var onCpu = cpu.FromArray(data, n);
            using var onDevice = device.FromArray(data, n);
            Ops.Dropout(onCpu, onCpu, 0.3f, seed, stream);
            Ops.Dropout(onDevice, onDevice, 0.3f, seed, stream);
            var expected = Array.ConvertAll(onCpu.ToArray(), BitConverter.SingleToInt32Bits);
            var actual = Array.ConvertAll(onDevice.ToArray(), BitConverter.SingleToInt32Bits);
            Assert.That(actual, Is.EqualTo(expected), $"seed {seed:X}, stream {stream}");
        }
    }

    [Test]
    public void KeepsAFractionOneMinusP()
    {
        // Each element is kept independently with probability 1 − p (up to the 2^-24 grid of u), so the kept count
        // is Binomial(n, 1 − p): for n = 10^6 and p = 0.3 its standard deviation is √(n·p·(1 − p)) ≈ 458. Six standard
        // deviations (±0.00275 in the fraction) fail a correct generator with probability about 2e-9.
        var device = TestDevices.Get("cpu");
        const int n = 1_000_000;
        const float p = 0.3f;
        using var x = device.Zeros(n);
        Ops.Fill(x, 1f);
        Ops.Dropout(x, x, p, 99, 0);
        var y = x.ToArray();
        double kept = y.Count(v => v != 0) / (double)n;
        Assert.That(kept, Is.EqualTo(1 - p).Within(6 * Math.Sqrt(p * (1 - p) / n)));
        Assert.That(y.Where(v => v != 0), Is.All.EqualTo(1f / (1f - p)), "kept elements are scaled by 1/(1 − p)");
    }

    [Test]
    public void DifferentSeedsAndStreamsDrawIndependentMasks()
    {
        // Two independent masks at p = 0.5 disagree on each element with probability 1/2; over 10^4 elements the
        // disagreement fraction has standard deviation 0.005, so [0.45, 0.55] is ten standard deviations wide.
        var device = TestDevices.Get("cpu");
        const int n = 10_000;
        var baseline = Mask(device, n, 1, 0);
        foreach (var (seed, stream) in new[] { (2UL, 0UL), (1UL, 1UL), (1UL << 32, 0UL), (1UL, 1UL << 32) })
        {
            var other = Mask(device, n, seed, stream);
            double disagreement = baseline.Zip(other).Count(pair => pair.First != pair.Second) / (double)n;
            Assert.That(disagreement, Is.InRange(0.45, 0.55), $"seed {seed}, stream {stream}");
        }

        Assert.That(Mask(device, n, 1, 0), Is.EqualTo(baseline), "the same seed and stream give the same mask");
    }

    private static bool[] Mask(Device device, int n, ulong seed, ulong stream)
    {
        using var x = device.Zeros(n);
        Ops.Fill(x, 1f);
        Ops.Dropout(x, x, 0.5f, seed, stream);
        return Array.ConvertAll(x.ToArray(), v => v != 0);
    }
}
