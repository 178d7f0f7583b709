using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using NUnit.Framework;
using Tensorlet.Backends.Cpu;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// GEMM on every device against the float64 <see cref="ReferenceGemm"/>, plus the cpu kernel's own span API,
/// packed-B path and microkernel variants.
/// </summary>
public sealed class GemmTests
{
    /// <summary>Shapes every device runs (ILGPU's CPU accelerator is slow: up to about 40³).</summary>
    private static readonly (int M, int N, int K)[] SmallShapes =
    [
        (1, 1, 1), (1, 7, 3), (7, 1, 33), (7, 33, 5), (33, 7, 40), (16, 16, 16), (40, 33, 37), (3, 40, 1),
    ];

    /// <summary>
    /// Shapes only the cpu device runs: edges of every block size (MR 8/6/4, NR 32/16/4, KC 256, MC 256), an LSTM
    /// step, a few row blocks with N cut between items (300 rows), enough row blocks not to cut N (2100 rows), and
    /// row blocks run in column chunks (530×300, three K blocks; a partial last chunk, sliver and row block), a packed
    /// B larger than L2, so the next sliver is prefetched (260×300 over K = 2000), as Aᵀ·B on Vector512, few rows over a
    /// long K read in place (32 and 27 rows: A one sliver as it lies, and padded), and a short K whose tiles run panel by
    /// panel (600×300 over K = 32).
    /// </summary>
    private static readonly (int M, int N, int K)[] LargeShapes =
    [
        (127, 33, 257), (33, 127, 300), (129, 65, 513), (100, 2048, 512), (130, 200, 1100), (9, 520, 256),
        (300, 70, 90), (2100, 40, 30), (530, 300, 600), (260, 300, 2000), (32, 264, 1000), (27, 72, 600), (600, 300, 32),
    ];

    /// <summary>Every device × shape × transpose combination; large shapes on cpu only.</summary>
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var device in TestDevices.All)
        {
            var shapes = device == "cpu" ? SmallShapes.Concat(LargeShapes) : SmallShapes;
            foreach (var (m, n, k) in shapes)
            {
                foreach (bool transposeA in new[] { false, true })
                {
                    foreach (bool transposeB in new[] { false, true })
                    {
                        yield return new TestCaseData(device, m, n, k, transposeA, transposeB)
                            .SetName($"Gemm({device}, {m}x{n}x{k}, {(transposeA ? "Aᵀ" : "A")}·{(transposeB ? "Bᵀ" : "B")})");
                    }
                }
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheFloat64Reference(string deviceName, int m, int n, int k, bool transposeA, bool transposeB)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(HashCode.Combine(m, n, k, transposeA, transposeB));
        float[] a = Random(rng, m * k), b = Random(rng, k * n);
        using var ta = device.FromArray(a, transposeA ? k : m, transposeA ? m : k);
        using var tb = device.FromArray(b, transposeB ? n : k, transposeB ? k : n);
        using var tc = device.Zeros(m, n);

        Ops.Gemm(ta, transposeA, tb, transposeB, tc);

        // Big shapes: check every 7th row (and the last), which still covers every row position in a tile.
        AssertMatchesReference(tc.ToArray(), transposeA, transposeB, m, n, k, 1f, a, b, 0f, new float[m * n], rowStep: (long)m * n * k > 4_000_000 ? 7 : 1);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AlphaAndBetaScaleTheProductAndTheOldC(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(7);
        const int m = 13, n = 35, k = 29;
        const float alpha = -0.75f, beta = 1.25f;
        foreach (bool transposeA in new[] { false, true })
        {
            foreach (bool transposeB in new[] { false, true })
            {
                float[] a = Random(rng, m * k), b = Random(rng, k * n), c = Random(rng, m * n);
                using var ta = device.FromArray(a, transposeA ? k : m, transposeA ? m : k);
                using var tb = device.FromArray(b, transposeB ? n : k, transposeB ? k : n);
                using var tc = device.FromArray(c, m, n);

                Ops.Gemm(ta, transposeA, tb, transposeB, tc, alpha, beta);

                AssertMatchesReference(tc.ToArray(), transposeA, transposeB, m, n, k, alpha, a, b, beta, c);
            }
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void BetaZeroDoesNotReadC(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(11);
        const int m = 9, n = 37, k = 17;
        float[] a = Random(rng, m * k), b = Random(rng, k * n);
        float[] poisoned = Enumerable.Repeat(float.NaN, m * n).ToArray();
        using var ta = device.FromArray(a, m, k);
        using var tb = device.FromArray(b, k, n);
        using var tc = device.FromArray(poisoned, m, n);

        Ops.Gemm(ta, false, tb, false, tc, alpha: 2f, beta: 0f);

        var result = tc.ToArray();
        Assert.That(result.All(float.IsFinite), Is.True, "NaN in C leaked through beta = 0");
        AssertMatchesReference(result, false, false, m, n, k, 2f, a, b, 0f, new float[m * n]);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AReusedBThatIsRewrittenGivesTheNewProduct(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(13);
        const int m = 10, n = 36, k = 20;
        float[] a = Random(rng, m * k), b1 = Random(rng, k * n), b2 = Random(rng, k * n), b3 = Random(rng, k * n);
        using var ta = device.FromArray(a, m, k);
        using var tb = device.FromArray(b1, n, k);
        using var tc = device.Zeros(m, n);

        // Three uses at one version: the cpu device packs B on the second and reuses it on the third.
        for (int use = 0; use < 3; use++)
        {
            Ops.Gemm(ta, false, tb, true, tc);
            AssertMatchesReference(tc.ToArray(), false, true, m, n, k, 1f, a, b1, 0f, new float[m * n]);
        }

        // Written from the host, then by a kernel (as an optimizer step writes a weight): each product sees the new B.
        tb.CopyFrom(b2);
        Ops.Gemm(ta, false, tb, true, tc);
        AssertMatchesReference(tc.ToArray(), false, true, m, n, k, 1f, a, b2, 0f, new float[m * n]);
        Ops.Gemm(ta, false, tb, true, tc);
        AssertMatchesReference(tc.ToArray(), false, true, m, n, k, 1f, a, b2, 0f, new float[m * n]);
        using var tb3 = device.FromArray(b3, n, k);
        Ops.Copy(tb3, tb);
        Ops.Gemm(ta, false, tb, true, tc);
        AssertMatchesReference(tc.ToArray(), false, true, m, n, k, 1f, a, b3, 0f, new float[m * n]);
    }

    [Test]
    public void CpuKeepsThePackingOfAReusedBUntilItIsWritten()
    {
        // The contract that makes packing ahead worth having: while B's buffer is not written, the cpu device really does
        // reuse its packed copy (memory changed behind the backend's back, never done by library code, is not seen), and a
        // write through the backend or from the host retires it.
        var device = TestDevices.Get("cpu");
        var rng = new Random(17);
        const int m = 5, n = 40, k = 30;
        float[] a = Random(rng, m * k), b1 = Random(rng, k * n), b2 = Random(rng, k * n);
        using var ta = device.FromArray(a, m, k);
        using var tb = device.FromArray(b1, k, n);
        using var tc = device.Zeros(m, n);

        Ops.Gemm(ta, false, tb, false, tc);
        Ops.Gemm(ta, false, tb, false, tc); // the second use packs
        b2.CopyTo(((CpuStorage<float>)tb.Storage).AsSpan(tb.Offset, tb.Length)); // no version bump
        Ops.Gemm(ta, false, tb, false, tc);
        AssertMatchesReference(tc.ToArray(), false, false, m, n, k, 1f, a, b1, 0f, new float[m * n]);

        tb.CopyFrom(b2);
        Ops.Gemm(ta, false, tb, false, tc);
        AssertMatchesReference(tc.ToArray(), false, false, m, n, k, 1f, a, b2, 0f, new float[m * n]);
    }

    /// <summary>The span API with each microkernel the machine runs, each with the blocking derived for it from the caches.</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void EveryMicrokernelMatchesTheReference(string name)
    {
        var width = Enum.Parse<CpuVectorWidth>(name);
        if (!CpuKernelPlan.IsSupported(width))
        {
            Assert.Ignore($"This machine cannot run the {width} microkernel.");
        }

        var geometry = CpuKernelPlan.For(width).Gemm;
        var rng = new Random(19);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 127), (13, 17, 260), (64, 64, 64), (50, 70, 600), (270, 20, 30), (600, 32, 513) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    float[] a = Random(rng, m * k), b = Random(rng, k * n), c = Random(rng, m * n);
                    float[] direct = (float[])c.Clone();
                    CpuGemm.Gemm(transposeA, transposeB, m, n, k, 0.5f, a, b, -1.5f, direct, 2, geometry);
                    AssertMatchesReference(direct, transposeA, transposeB, m, n, k, 0.5f, a, b, -1.5f, c);

                    float[] viaPacked = (float[])c.Clone();
                    using var packed = CpuGemm.PackB(transposeB, k, n, b, geometry: geometry);
                    Assert.That(packed.Geometry, Is.EqualTo(geometry));
                    CpuGemm.Gemm(transposeA, m, 0.5f, a, packed, -1.5f, viaPacked, 2);
                    Assert.That(viaPacked, Is.EqualTo(direct), "packing ahead must not change the arithmetic");

                    // Packed in column groups (a recurrent weight's gates, each from a sliver of its own): the same floats.
                    foreach (int groups in new[] { 3, 4 }.Where(g => n % g == 0 && PackedMatrix.LayoutGroups(n, g, geometry.Nr) > 1))
                    {
                        if (!transposeB)
                        {
                            Assert.Throws<ArgumentException>(() => CpuGemm.PackB(false, k, n, b, geometry: geometry, groups: groups));
                            continue;
                        }

                        float[] viaGroups = (float[])c.Clone();
                        using var byGroup = CpuGemm.PackB(true, k, n, b, geometry: geometry, groups: groups);
                        Assert.That(byGroup.PaddedN, Is.EqualTo(groups * (((n / groups) + geometry.Nr - 1) / geometry.Nr) * geometry.Nr), "each group whole slivers");
                        CpuGemm.Gemm(transposeA, m, 0.5f, a, byGroup, -1.5f, viaGroups, 2);
                        Assert.That(viaGroups, Is.EqualTo(direct), $"{groups} column groups must not change the arithmetic");
                    }
                }
            }
        }
    }

    /// <summary>The blocking follows the caches: the tuned Intel sizes (48 KiB L1d, 2 MiB L2) and this project's AMD sizes (32 KiB, 1 MiB).</summary>
    [Test]
    public void BlockingIsDerivedFromTheCaches()
    {
        var intel = GemmGeometry.For(CpuVectorWidth.Vector512, new CpuCaches(48 << 10, 12, 2 << 20, 105 << 20, "test"));
        Assert.That((intel.KcMax, intel.Mc, intel.ColumnChunk, intel.ColumnChunkMaxK), Is.EqualTo((256, 256, 256, 1024)));
        var zen4 = GemmGeometry.For(CpuVectorWidth.Vector512, new CpuCaches(32 << 10, 8, 1 << 20, 32 << 20, "test"));
        Assert.That((zen4.KcMax, zen4.Mc, zen4.ColumnChunk, zen4.ColumnChunkMaxK), Is.EqualTo((256, 256, 256, 512)));
        Assert.That(zen4.KcMax * zen4.Nr * sizeof(float), Is.LessThanOrEqualTo(32 << 10), "the B sliver stays in L1");
        Assert.That((intel.KcMaxInPlace, zen4.KcMaxInPlace), Is.EqualTo((256, 128)), "read in place, the sliver shares L1 with the panels' lines");
        Assert.That(zen4.KcInPlaceFor(9900), Is.EqualTo(127), "K in equal blocks of at most 128");
        var avx2 = GemmGeometry.For(CpuVectorWidth.Vector256, new CpuCaches(32 << 10, 8, 1 << 20, 32 << 20, "test"));
        Assert.That(avx2.KcMax, Is.EqualTo(256), "KC stops at 256, where the C tile's traffic is already amortised");
        Assert.That((long)zen4.Mc * zen4.KcMax * sizeof(float), Is.LessThanOrEqualTo((1 << 20) / 4), "the A block takes a quarter of L2");
        var tiny = GemmGeometry.For(CpuVectorWidth.Scalar, new CpuCaches(1 << 10, 2, 4 << 10, 0, "test"));
        Assert.That(tiny.KcMax, Is.GreaterThanOrEqualTo(64));
        Assert.That(tiny.Mc, Is.GreaterThanOrEqualTo(tiny.Mr));
    }

    [Test]
    public void CacheSizesParseFromSysfsText()
    {
        Assert.That(CpuCaches.ParseSize("32K"), Is.EqualTo(32 << 10));
        Assert.That(CpuCaches.ParseSize("1024K"), Is.EqualTo(1 << 20));
        Assert.That(CpuCaches.ParseSize("32M\n"), Is.EqualTo(32 << 20));
        Assert.That(CpuCaches.ParseSize("4096"), Is.EqualTo(4096));
        Assert.Throws<FormatException>(() => CpuCaches.ParseSize(" \n"), "an empty size file means the sizes are unknown (Detect falls back)");
        Assert.That(CpuCaches.Machine.L1dBytes, Is.GreaterThan(0));
        Assert.That(CpuCaches.Machine.L2Bytes, Is.GreaterThanOrEqualTo(CpuCaches.Machine.L1dBytes));
    }

    [Test]
    public void VectorWidthNamesParseAsTheEnvironmentVariableTakesThem()
    {
        Assert.That(CpuKernelPlan.ParseWidth("512"), Is.EqualTo(CpuVectorWidth.Vector512));
        Assert.That(CpuKernelPlan.ParseWidth(" 256 "), Is.EqualTo(CpuVectorWidth.Vector256));
        Assert.That(CpuKernelPlan.ParseWidth("128"), Is.EqualTo(CpuVectorWidth.Vector128));
        Assert.That(CpuKernelPlan.ParseWidth("Scalar"), Is.EqualTo(CpuVectorWidth.Scalar));
        Assert.That(CpuKernelPlan.ParseWidth("avx"), Is.Null);
        Assert.That(CpuKernelPlan.IsSupported(CpuKernelPlan.Machine.Width), Is.True);
    }

    /// <summary>
    /// On ARM64 the plan runs Vector128 (Neon) as the hardware's widest width, with the 6×8 microkernel, and reads the
    /// caches without CPUID. CI runs on x86, where this is skipped; scripts/arm64-check.sh runs it under qemu-aarch64.
    /// </summary>
    [Test]
    public void OnArm64ThePlanIsNeonVector128()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.Arm64)
        {
            Assert.Ignore("Not an ARM64 process (scripts/arm64-check.sh runs this test under qemu-aarch64).");
        }

        Assert.That(AdvSimd.IsSupported, Is.True);
        Assert.That(CpuKernelPlan.Supported(), Is.EqualTo(new[] { CpuVectorWidth.Vector128, CpuVectorWidth.Scalar }));
        Assert.That(CpuCaches.Machine.Source, Is.AnyOf("sysfs", "fallback"));
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(CpuKernelPlan.VectorVariable)))
        {
            var plan = CpuKernelPlan.Machine;
            Assert.That((plan.Width, plan.Reason, plan.Gemm.Kind), Is.EqualTo((CpuVectorWidth.Vector128, "hardware", GemmKernelKind.Vector128)));
        }
    }

    [Test]
    public void PackedOperandsAreRepackedForAnotherGeometry()
    {
        var other = CpuKernelPlan.Supported().FirstOrDefault(w => w != CpuKernelPlan.Machine.Width);
        if (other == default)
        {
            Assert.Ignore("Needs a second width this machine runs.");
        }

        var device = TestDevices.Get("cpu");
        var rng = new Random(37);
        const int m = 6, n = 40, k = 24;
        float[] a = Random(rng, m * k), b = Random(rng, k * n);
        using var tb = device.FromArray(b, k, n);
        using var operands = new CpuPackedOperands();
        var otherGeometry = CpuKernelPlan.For(other).Gemm;
        Assert.That(operands.Keep(tb, false, k, n, 1, otherGeometry).Geometry, Is.EqualTo(otherGeometry));
        var packed = operands.Keep(tb, false, k, n, 1, GemmGeometry.Machine);
        Assert.That(packed.Geometry, Is.EqualTo(GemmGeometry.Machine), "a copy packed for another geometry is repacked");
        var c = new float[m * n];
        CpuGemm.Gemm(false, m, 1f, a, packed, 0f, c, 1);
        AssertMatchesReference(c, false, false, m, n, k, 1f, a, b, 0f, new float[m * n]);
    }

    [Test]
    public void AnOperandIsPackedOnItsSecondUseAtOneVersionAndShapeOnly()
    {
        // An RNN's h of every step is read as [T·B, H] (the layer above's input) and as its first T·B − B rows (its own
        // dW_hh): two shapes, each used once, so it is not packed, and a batch of another T or B packs nothing new.
        var device = TestDevices.Get("cpu");
        const int k = 12, n = 8, batch = 3;
        using var tb = device.FromArray(Random(new Random(5), k * n), k, n);
        using var operands = new CpuPackedOperands();
        var geometry = GemmGeometry.Machine;
        Assert.That(operands.For(tb, false, k, n, 1, geometry, keepNow: false), Is.Null, "first use");
        Assert.That(operands.For(tb, false, k - batch, n, 1, geometry, keepNow: false), Is.Null, "one use of another shape");
        Assert.That(operands.For(tb, false, k, n, 1, geometry, keepNow: false), Is.Null, "one use of the first shape again");
        var packed = operands.For(tb, false, k, n, 1, geometry, keepNow: false);
        Assert.That(packed, Is.Not.Null, "the second use in a row of one shape packs");
        Assert.That((packed!.K, packed.N), Is.EqualTo((k, n)));
        Assert.That(operands.For(tb, false, k, n, 1, geometry, keepNow: false), Is.SameAs(packed), "and keeps the copy");
    }

    [Test]
    public void AlphaZeroDoesNotReadAOrB()
    {
        float[] a = [float.NaN, 1, 2, 3], b = [float.PositiveInfinity, 1, 2, 3];
        float[] c = [1, 2, 3, 4];
        CpuGemm.Gemm(false, false, 2, 2, 2, 0f, a, b, 3f, c, 1);
        Assert.That(c, Is.EqualTo(new float[] { 3, 6, 9, 12 }));
    }

    /// <summary>
    /// Two products with one A on every device, against float64: C1 = 0.5·op(A)·B1 − 1.5·C1 and the same for B2, with
    /// widths that leave a partial sliver at the split.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SharedAMatchesTheFloat64Reference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(31);
        foreach (var (m, n1, n2, k) in new[] { (1, 1, 1, 1), (7, 33, 5, 40), (33, 7, 17, 37), (9, 20, 40, 30) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                float[] a = Random(rng, m * k), b1 = Random(rng, k * n1), b2 = Random(rng, k * n2), c1 = Random(rng, m * n1), c2 = Random(rng, m * n2);
                using var ta = device.FromArray(a, transposeA ? k : m, transposeA ? m : k);
                using var tb1 = device.FromArray(b1, k, n1);
                using var tb2 = device.FromArray(b2, k, n2);
                using var tc1 = device.FromArray(c1, m, n1);
                using var tc2 = device.FromArray(c2, m, n2);

                Ops.GemmSharedA(ta, transposeA, tb1, tc1, tb2, tc2, 0.5f, -1.5f);

                AssertMatchesReference(tc1.ToArray(), transposeA, false, m, n1, k, 0.5f, a, b1, -1.5f, c1);
                AssertMatchesReference(tc2.ToArray(), transposeA, false, m, n2, k, 0.5f, a, b2, -1.5f, c2);
            }
        }
    }

    /// <summary>
    /// The cpu's shared-A job gives each C the floats its own GEMM gives, with every microkernel: a partial sliver before
    /// the split, N cut between items (one row block on two threads), column chunks (several K blocks, wide tiles) and
    /// several row blocks.
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void SharedAGivesTheFloatsOfTwoGemms(string name)
    {
        var width = Enum.Parse<CpuVectorWidth>(name);
        if (!CpuKernelPlan.IsSupported(width))
        {
            Assert.Ignore($"This machine cannot run the {width} microkernel.");
        }

        var geometry = CpuKernelPlan.For(width).Gemm;
        var rng = new Random(37);
        foreach (var (m, n1, n2, k) in new[] { (9, 1, 3, 5), (100, 40, 70, 300), (300, 33, 65, 513), (530, 200, 300, 600), (600, 256, 256, 700) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                float[] a = Random(rng, m * k), b1 = Random(rng, k * n1), b2 = Random(rng, k * n2), c1 = Random(rng, m * n1), c2 = Random(rng, m * n2);
                float[] own1 = (float[])c1.Clone(), own2 = (float[])c2.Clone(), shared1 = (float[])c1.Clone(), shared2 = (float[])c2.Clone();
                CpuGemm.Gemm(transposeA, false, m, n1, k, 0.5f, a, b1, -1.5f, own1, 2, geometry);
                CpuGemm.Gemm(transposeA, false, m, n2, k, 0.5f, a, b2, -1.5f, own2, 2, geometry);

                CpuGemm.GemmSharedA(transposeA, m, n1, n2, k, 0.5f, a, b1, b2, -1.5f, shared1, shared2, 2, geometry);

                string shape = $"{m}x({n1}+{n2})x{k}, {(transposeA ? "Aᵀ" : "A")}";
                Assert.That(shared1, Is.EqualTo(own1), shape + ": C1");
                Assert.That(shared2, Is.EqualTo(own2), shape + ": C2");
            }
        }
    }

    [Test]
    public void ThreadCountDoesNotChangeTheResult()
    {
        // Each tile is computed by the same microkernel over the same K blocks whichever thread runs it,
        // so results are bit-identical across thread counts (reproducible training runs).
        var rng = new Random(23);
        const int m = 100, n = 1000, k = 700;
        float[] a = Random(rng, m * k), b = Random(rng, n * k);
        float[] one = new float[m * n], two = new float[m * n];
        CpuGemm.Gemm(false, true, m, n, k, 1f, a, b, 0f, one, 1);
        CpuGemm.Gemm(false, true, m, n, k, 1f, a, b, 0f, two, 2);
        Assert.That(two, Is.EqualTo(one));

        // A weight gradient whose row blocks are cut into whole rounds of the threads (768 rows: 192-row blocks on
        // two threads, 256-row ones on three): M's blocking does not change any element's sum.
        const int rows = 768, columns = 256, depth = 700;
        float[] dy = Random(rng, depth * rows), x = Random(rng, depth * columns);
        float[][] results = [new float[rows * columns], new float[rows * columns], new float[rows * columns]];
        for (int t = 0; t < results.Length; t++)
        {
            CpuGemm.Gemm(true, false, rows, columns, depth, 1f, dy, x, 0f, results[t], t + 1);
        }

        Assert.That(results[1], Is.EqualTo(results[0]));
        Assert.That(results[2], Is.EqualTo(results[0]));
    }

    [Test]
    public void FewRowsReadInPlaceGiveTheFloatsOfThePackedPath()
    {
        // Aᵀ·B with at most NR rows and a long K (the output head's weight gradient dYᵀ·h) runs as its transpose with B
        // read in place (GemmFewRowsJob); the same product with B stored transposed takes the packed path. Both sum each
        // element over the same K blocks (the packed path given the in-place depth) with the same microkernel and store,
        // so whole tiles give the same floats, for any thread count; alpha and beta included.
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.Ignore("The few-rows path runs the Vector512 microkernel; this CPU has no hardware Vector512.");
        }

        var geometry = GemmGeometry.For(CpuVectorWidth.Vector512, CpuKernelPlan.Machine.Caches);
        var rng = new Random(37);
        foreach (var (m, n, k) in new[] { (32, 256, 9900), (32, 64, 700) })
        {
            Assert.That(GemmFewRowsJob.Handles(geometry, true, false, m, n, k), Is.True);
            float[] a = Random(rng, k * m), b = Random(rng, k * n), c = Random(rng, m * n);
            float[] bT = new float[n * k];
            for (int p = 0; p < k; p++)
            {
                for (int j = 0; j < n; j++)
                {
                    bT[(j * k) + p] = b[(p * n) + j];
                }
            }

            float[] packed = (float[])c.Clone();
            CpuGemm.Gemm(true, true, m, n, k, 0.5f, a, bT, -1.5f, packed, 2, geometry with { KcMax = geometry.KcMaxInPlace });
            AssertMatchesReference(packed, true, false, m, n, k, 0.5f, a, b, -1.5f, c, rowStep: 3);
            for (int threads = 1; threads <= 3; threads++)
            {
                float[] inPlace = (float[])c.Clone();
                CpuGemm.Gemm(true, false, m, n, k, 0.5f, a, b, -1.5f, inPlace, threads, geometry);
                Assert.That(inPlace, Is.EqualTo(packed), $"{m}x{n}x{k} on {threads} thread(s)");
            }
        }
    }

    /// <summary>
    /// A tile cut short by the edge of C, of at most 8 or 16 columns (a gate's last sliver at H = 100, 200 or 300) or of at
    /// most 4 rows (a 100-row step's last panel), runs a narrower microkernel over the same packed panel and sliver; each
    /// stored element must be the float the whole tile stores, for any alpha and beta. All are checked against float64
    /// through the GEMM tests as well. On ARM64 the Vector128 kernels are Neon's fmla by element.
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    public unsafe void EveryNarrowTileGivesTheFloatsOfTheWholeTile(string name)
    {
        var width = Enum.Parse<CpuVectorWidth>(name);
        if (!CpuKernelPlan.IsSupported(width))
        {
            Assert.Ignore($"This machine cannot run the {width} microkernels.");
        }

        var (mr, nr, whole, narrowKernels) = NarrowTileKernels(width);
        int ldc = nr + 8;
        var rng = new Random(41);
        var tiles = new[]
        {
            (8, 16, 0f), (8, 8, 1f), (8, 4, 0f), (7, 12, 1f), (6, 8, 0f), (6, 4, 1f), (5, 1, -0.5f), (4, 32, 0f), (4, 20, 0.25f),
            (4, 16, 1f), (4, 13, 1f), (4, 8, 0f), (4, 5, 0.25f), (3, 32, 0f), (3, 7, 0.25f), (2, 16, -0.5f), (1, 8, 1f), (1, 1, 0.25f),
        };
        var ran = new HashSet<string>();
        foreach (int kc in new[] { 1, 7, 256 })
        {
            float[] a = Random(rng, kc * mr), b = Random(rng, kc * nr), c = Random(rng, mr * ldc);
            foreach (var (rows, cols, beta) in tiles.Where(t => t.Item1 <= mr && t.Item2 <= nr))
            {
                // Zero the padding, as the packing does: B past cols, A past rows.
                float[] bTile = (float[])b.Clone(), aPanel = (float[])a.Clone();
                for (int p = 0; p < kc; p++)
                {
                    Array.Clear(bTile, (p * nr) + cols, nr - cols);
                    Array.Clear(aPanel, (p * mr) + rows, mr - rows);
                }

                float[] expected = (float[])c.Clone(), spill = new float[mr * nr];
                fixed (float* pa = aPanel, pb = bTile, pe = expected, ps = spill)
                {
                    whole(kc, pa, pb, pe, ldc, rows, cols, 0.75f, beta, ps);
                }

                foreach (var (kernel, _, _, run) in narrowKernels.Where(k => rows <= k.MaxRows && cols <= k.MaxColumns))
                {
                    float[] narrow = (float[])c.Clone();
                    fixed (float* pa = aPanel, pb = bTile, pn = narrow, ps = spill)
                    {
                        run(kc, pa, pb, pn, ldc, rows, cols, 0.75f, beta, ps);
                    }

                    Assert.That(narrow, Is.EqualTo(expected), $"{width} {kernel}: K = {kc}, {rows} × {cols}, beta {beta}");
                    ran.Add(kernel);
                }
            }
        }

        Assert.That(ran, Is.EquivalentTo(narrowKernels.Select(k => k.Name)), "every narrow kernel ran");
    }

    [Test]
    public unsafe void RowBlocksComeInWholeRoundsOfTheThreads()
    {
        // Threads claim row blocks one at a time, so a count that is not a multiple of the threads, or a short last
        // block, leaves some idle in the last round: the GRU's 2×256 weight gradient (M = 768) made 3 blocks of 256 for
        // 2 threads, its 2×128 one (M = 384) blocks of 256 and 128. The blocks come in whole rounds, no larger than MC,
        // and as equal as whole panels of MR rows allow: the last is short by less than one panel per block.
        var geometry = GemmGeometry.For(CpuVectorWidth.Vector512, new CpuCaches(32 << 10, 8, 1 << 20, 32 << 20, "test"));
        foreach (var (m, threads) in new[] { (768, 2), (384, 2), (1280, 2), (9900, 2), (1000, 3), (768, 3), (1024, 2), (2100, 4), (300, 2) })
        {
            var job = new GemmJob(geometry, true, m, 256, 9800, 1f, null, 0f, null, threads);
            int plain = (m + geometry.Mc - 1) / geometry.Mc;
            int last = m - ((job.RowBlocks - 1) * job.RowsPerBlock);
            string shape = $"{m} rows on {threads} threads: {job.RowBlocks} blocks of {job.RowsPerBlock}, the last {last}";
            Assert.That(job.RowBlocks % threads, Is.Zero, shape);
            Assert.That(job.RowBlocks, Is.InRange(plain, (plain + threads - 1) / threads * threads), shape);
            Assert.That(job.RowsPerBlock, Is.LessThanOrEqualTo(geometry.Mc), shape);
            Assert.That(last, Is.GreaterThan(job.RowsPerBlock - (job.RowBlocks * geometry.Mr)).And.GreaterThan(0), shape);
        }
    }

    [Test]
    public void ColumnChunksGiveTheSameFloatsAsTheWholeRowBlockOrder()
    {
        // Row blocks wider than a 256-column chunk with several K blocks run the K loop inside each chunk; every element
        // still sums the same K blocks in the same order, so the floats must be identical, edges and beta included.
        // The blocking of a 48 KiB L1d and 2 MiB L2 (256-column chunks up to K = 1024), whatever this machine's caches.
        var geometry = GemmGeometry.For(CpuKernelPlan.Machine.Width, new CpuCaches(48 << 10, 12, 2 << 20, 32 << 20, "test"));
        var rng = new Random(29);
        foreach (var (m, n, k) in new[] { (530, 300, 600), (520, 600, 1024) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    float[] a = Random(rng, m * k), b = Random(rng, k * n), c = Random(rng, m * n);
                    float[] chunked = (float[])c.Clone(), whole = (float[])c.Clone();
                    CpuGemm.Gemm(transposeA, transposeB, m, n, k, 0.5f, a, b, -1.5f, chunked, 2, geometry);
                    CpuGemm.Gemm(transposeA, transposeB, m, n, k, 0.5f, a, b, -1.5f, whole, 2, geometry.WithoutColumnChunks());

                    Assert.That(chunked, Is.EqualTo(whole), $"{m}x{n}x{k}, {(transposeA ? "Aᵀ" : "A")}·{(transposeB ? "Bᵀ" : "B")}");
                }
            }
        }
    }

    [Test]
    public void PackedMatrixIsReusedWhenTheShapeMatchesAndReplacedOtherwise()
    {
        var rng = new Random(29);
        float[] b = Random(rng, 40 * 50);
        var first = CpuGemm.PackB(false, 40, 50, b);
        var same = CpuGemm.PackB(true, 40, 50, b, reuse: first);
        Assert.That(same, Is.SameAs(first));
        using var other = CpuGemm.PackB(false, 50, 40, b, reuse: same);
        Assert.Multiple(() =>
        {
            Assert.That(other, Is.Not.SameAs(first));
            Assert.That(first.IsDisposed, Is.True);
            Assert.That((other.K, other.N), Is.EqualTo((50, 40)));
        });
    }

    [Test]
    public void EmptyInnerDimensionScalesC()
    {
        float[] c = [1, 2, 3, 4, float.NaN, 6];
        CpuGemm.Gemm(false, false, 2, 3, 0, 1f, [], [], 2f, c, 2);
        Assert.That(c.Take(4), Is.EqualTo(new float[] { 2, 4, 6, 8 }));

        CpuGemm.Gemm(false, false, 2, 3, 0, 1f, [], [], 0f, c, 2);
        Assert.That(c, Is.All.EqualTo(0f));
    }

    [Test]
    public void TooSmallBuffersAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuGemm.Gemm(false, false, 2, 3, 4, 1f, new float[7], new float[12], 0f, new float[6], 1));
        Assert.That(ex!.Message, Does.Contain("m=2, n=3, k=4").And.Contain("needs 8"));
    }

    /// <summary>A microkernel call (the Vector256 and Vector128 kernels take alpha and beta by reference; these lambdas pass them).</summary>
    private unsafe delegate void Microkernel(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill);

    /// <summary>A width's tile (MR × NR), its whole-tile microkernel, and its narrow ones with the largest tile each takes.</summary>
    private static unsafe (int Mr, int Nr, Microkernel Whole, (string Name, int MaxRows, int MaxColumns, Microkernel Run)[] Narrow) NarrowTileKernels(CpuVectorWidth width) => width switch
    {
        CpuVectorWidth.Vector512 => (GemmMicrokernel512.Mr, GemmMicrokernel512.Nr, GemmMicrokernel512.Run,
        [
            ("8 columns", GemmMicrokernel512.Mr, 8, GemmMicrokernel512.RunUpTo8Columns),
            ("16 columns", GemmMicrokernel512.Mr, 16, GemmMicrokernel512.RunUpTo16Columns),
            ("4 rows", 4, GemmMicrokernel512.Nr, GemmMicrokernel512.RunUpTo4Rows),
        ]),
        CpuVectorWidth.Vector256 => (GemmMicrokernel256.Mr, GemmMicrokernel256.Nr, (kc, a, b, c, ldc, rows, cols, alpha, beta, spill) => GemmMicrokernel256.Run(kc, a, b, c, ldc, rows, cols, alpha, beta, spill),
        [
            ("8 columns", GemmMicrokernel256.Mr, 8, (kc, a, b, c, ldc, rows, cols, alpha, beta, spill) => GemmMicrokernel256.RunUpTo8Columns(kc, a, b, c, ldc, rows, cols, alpha, beta, spill)),
            ("4 rows", 4, GemmMicrokernel256.Nr, (kc, a, b, c, ldc, rows, cols, alpha, beta, spill) => GemmMicrokernel256.RunUpTo4Rows(kc, a, b, c, ldc, rows, cols, alpha, beta, spill)),
        ]),
        CpuVectorWidth.Vector128 => (GemmMicrokernel128.Mr, GemmMicrokernel128.Nr, (kc, a, b, c, ldc, rows, cols, alpha, beta, spill) => GemmMicrokernel128.Run(kc, a, b, c, ldc, rows, cols, alpha, beta, spill),
        [
            ("4 rows", 4, GemmMicrokernel128.Nr, (kc, a, b, c, ldc, rows, cols, alpha, beta, spill) => GemmMicrokernel128.RunUpTo4Rows(kc, a, b, c, ldc, rows, cols, alpha, beta, spill)),
        ]),
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "No narrow tiles."),
    };

    private static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }

    /// <summary>
    /// Compares against the float64 reference, on every row, or on every <paramref name="rowStep"/>-th row of
    /// C for big shapes (the float64 triple loop is the slow part of those tests). Tolerance per element:
    /// float32 rounding (u = 6e-8) in a K-term dot product accumulates like a random walk, about u·√K·Σ|a·b|;
    /// we allow 1e-6·√K·|alpha|·Σ|a·b| (≈16× that), plus 1e-6·(1 + |beta·c|) for the scaling of the old C.
    /// A missing or wrong term is O(|a·b|) ≈ 0.1–1, far above the bound (≈ 0.02 at K = 2048, entries in [−1, 1]).
    /// </summary>
    private static void AssertMatchesReference(float[] actual, bool transposeA, bool transposeB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] cBefore, int rowStep = 1)
    {
        // op(A) restricted to the checked rows, stored untransposed: [rows, k].
        int[] rows = Enumerable.Range(0, m).Where(i => i % rowStep == 0 || i == m - 1).ToArray();
        var aRows = new double[rows.Length * k];
        var absARows = new double[rows.Length * k];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int p = 0; p < k; p++)
            {
                float v = transposeA ? a[(p * m) + rows[r]] : a[(rows[r] * k) + p];
                aRows[(r * k) + p] = v;
                absARows[(r * k) + p] = Math.Abs(v);
            }
        }

        var expected = new double[rows.Length * n];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int j = 0; j < n; j++)
            {
                expected[(r * n) + j] = cBefore[(rows[r] * n) + j];
            }
        }

        ReferenceGemm.Gemm(false, transposeB, rows.Length, n, k, alpha, aRows, b.Select(x => (double)x).ToArray(), beta, expected);
        var magnitude = new double[rows.Length * n];
        ReferenceGemm.Gemm(false, transposeB, rows.Length, n, k, Math.Abs(alpha), absARows, b.Select(x => (double)Math.Abs(x)).ToArray(), 0, magnitude);

        int failures = 0;
        string first = string.Empty;
        for (int r = 0; r < rows.Length; r++)
        {
            for (int j = 0; j < n; j++)
            {
                int i = (rows[r] * n) + j;
                double tolerance = (1e-6 * Math.Sqrt(k) * magnitude[(r * n) + j]) + (1e-6 * (1 + Math.Abs(beta * cBefore[i])));
                double error = Math.Abs(actual[i] - expected[(r * n) + j]);
                if (!(error <= tolerance) && failures++ == 0)
                {
                    first = $"C[{rows[r]}, {j}] = {actual[i]}, expected {expected[(r * n) + j]} (|Δ| {error:E2} > {tolerance:E2})";
                }
            }
        }

        Assert.That(failures, Is.Zero, $"{failures} of {rows.Length * n} checked entries out of tolerance; first: {first}");
    }
}
