using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Kernels.Ilgpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Workbench;

/// <summary>
/// Every ILGPU GEMM variant of the workbench (dev/IlgpuKernels: naive, the library's tiled 4×4, tiled 8×8, tiled with k split,
/// and cuBLAS on cuda) against the float64 reference,
/// in all four transpose layouts, at sizes that are not multiples of any tile (1, 7, 33, 65, K = 17, 37), with alpha ≠ 1 and
/// beta ≠ 0; and the split-k GEMM with splits forced, since the accelerators here would rarely choose one at these sizes.
/// </summary>
public sealed class IlgpuGemmVariantTests
{
    /// <summary>One set of variant kernels per ILGPU test device, compiled once, on the device's own accelerator.</summary>
    private static readonly Dictionary<string, GemmVariants> VariantsByDevice = [];

    /// <summary>(m, n, k, alpha, beta): edge sizes around the 16×16 and 32×32 (CPU), 64×64 and 128×128 (GPU) blocks and BK = 8/16.</summary>
    private static readonly (int M, int N, int K, float Alpha, float Beta)[] Shapes =
    [
        (1, 1, 1, 1f, 0f),
        (7, 7, 7, -0.5f, 0f),
        (33, 33, 33, 1f, 1f),
        (3, 20, 17, 2f, -0.75f),
        (40, 24, 16, 0.25f, 0.5f),
        (65, 70, 37, 1f, 0f),
    ];

    private static readonly (bool A, bool B)[] Layouts = [(false, false), (false, true), (true, false), (true, true)];

    /// <summary>Variant × device × layout × shape; cuBLAS only on cuda. Variants travel as names: the enum is internal.</summary>
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var deviceName in TestDevices.Ilgpu)
        {
            foreach (var variant in Variants(deviceName))
            {
                foreach (var (ta, tb) in Layouts)
                {
                    foreach (var (m, n, k, alpha, beta) in Shapes)
                    {
                        yield return new TestCaseData(deviceName, variant.ToString(), ta, tb, m, n, k, alpha, beta)
                            .SetArgDisplayNames(deviceName, variant.ToString(), Layout(ta, tb), $"{m}x{n}x{k}", $"a={alpha}", $"b={beta}");
                    }
                }
            }
        }
    }

    /// <summary>Variant × device × layout, for the NaN test.</summary>
    public static IEnumerable<TestCaseData> LayoutCases()
    {
        foreach (var deviceName in TestDevices.Ilgpu)
        {
            foreach (var variant in Variants(deviceName))
            {
                foreach (var (ta, tb) in Layouts)
                {
                    yield return new TestCaseData(deviceName, variant.ToString(), ta, tb).SetArgDisplayNames(deviceName, variant.ToString(), Layout(ta, tb));
                }
            }
        }
    }

    /// <summary>Device × layout, for the forced split-k test.</summary>
    public static IEnumerable<TestCaseData> DeviceLayoutCases()
    {
        foreach (var deviceName in TestDevices.Ilgpu)
        {
            foreach (var (ta, tb) in Layouts)
            {
                yield return new TestCaseData(deviceName, ta, tb).SetArgDisplayNames(deviceName, Layout(ta, tb));
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTheFloat64Reference(string deviceName, string variant, bool transposeA, bool transposeB, int m, int n, int k, float alpha, float beta)
    {
        var device = TestDevices.Get(deviceName);
        var problem = new Problem(m, n, k, seed: (m * 31) + (n * 7) + k);
        float[] result = RunOnDevice(device, variant, transposeA, transposeB, problem, alpha, beta);
        problem.AssertClose(result, transposeA, transposeB, alpha, beta);
    }

    /// <summary>
    /// Split-k forced on small shapes: slices of 8 or 16 (the CPU and GPU tile depths), a ragged last slice (K = 37 and 50),
    /// more slices requested than k allows, alpha ≠ 1, and beta ≠ 0 (the reduction reads C) or 0 with NaN in C (it must not).
    /// </summary>
    [TestCaseSource(nameof(DeviceLayoutCases))]
    public void ForcedSplitKMatchesTheFloat64Reference(string deviceName, bool transposeA, bool transposeB)
    {
        var kernels = VariantsOn(TestDevices.Get(deviceName));
        foreach (var (m, n, k, slices, alpha, beta) in new[] { (19, 21, 37, 3, 1.5f, -0.5f), (5, 70, 50, 2, 1f, 0f), (33, 3, 37, 64, -0.25f, 1f) })
        {
            var plan = GemmSplitKPlan.Split(k, slices, kernels.Library.TileDepth);
            Assert.That(plan.Slices, Is.GreaterThan(1), $"{k} in {slices} slices of depth {kernels.Library.TileDepth} should split.");
            var problem = new Problem(m, n, k, seed: m + n + k);
            if (beta == 0f)
            {
                Array.Fill(problem.C, float.NaN);
            }

            float[] result = RunKernels(kernels, transposeA, transposeB, problem, alpha, beta, (gemm, args, a, b, c) => gemm.TiledSplitK(args, a, b, c, plan));
            problem.AssertClose(result, transposeA, transposeB, alpha, beta);
        }
    }

    [TestCaseSource(nameof(LayoutCases))]
    public void BetaZeroDoesNotReadC(string deviceName, string variant, bool transposeA, bool transposeB)
    {
        var device = TestDevices.Get(deviceName);
        var problem = new Problem(19, 21, 13, seed: 5);
        Array.Fill(problem.C, float.NaN);
        float[] result = RunOnDevice(device, variant, transposeA, transposeB, problem, alpha: 1.5f, beta: 0f);
        Assert.That(result, Has.All.Not.NaN, "NaN in C leaked through beta = 0.");
        problem.AssertClose(result, transposeA, transposeB, 1.5f, 0f);
    }

    /// <summary>
    /// The GPU group shape (256 threads per group: 64×64 blocks for Tiled, 128×128 for TiledLarge), run on a
    /// CPU accelerator built with 256-thread groups, so CI checks the exact configuration CUDA uses.
    /// Sizes stay tiny: its barriers are OS-level.
    /// </summary>
    [TestCase("Tiled", false, false)]
    [TestCase("Tiled", false, true)]
    [TestCase("Tiled", true, false)]
    [TestCase("Tiled", true, true)]
    [TestCase("TiledLarge", false, false)]
    [TestCase("TiledLarge", false, true)]
    [TestCase("TiledLarge", true, false)]
    [TestCase("TiledLarge", true, true)]
    [TestCase("TiledSplitK", false, false)]
    [TestCase("TiledSplitK", false, true)]
    [TestCase("TiledSplitK", true, false)]
    [TestCase("TiledSplitK", true, true)]
    public void TheGpuGroupShapeMatchesTheReferenceOnA256ThreadCpuAccelerator(string variant, bool transposeA, bool transposeB)
    {
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new GemmVariants(accelerator);
        Assert.That(kernels.Library.UsesGpuTile, Is.True);
        Assert.That(kernels.Library.TiledBlock, Is.EqualTo((64, 64)));
        Assert.That(kernels.TiledLargeBlock, Is.EqualTo((128, 128)));

        // Past one block each way with ragged edges (70×66 for the 64 block, 130×135 for the 128 one);
        // K = 35 takes three BK = 16 steps, the last partial.
        // TiledSplitK is forced into three slices of 16, 16 and 3.
        var problem = variant == "TiledLarge" ? new Problem(130, 135, 35, seed: 12) : new Problem(70, 66, 35, seed: 11);
        float[] result = variant == "TiledSplitK"
            ? RunKernels(kernels, transposeA, transposeB, problem, 0.75f, -0.5f, (gemm, args, a, b, c) => gemm.TiledSplitK(args, a, b, c, GemmSplitKPlan.Split(35, 3, 16)))
            : RunKernels(kernels, transposeA, transposeB, problem, 0.75f, -0.5f, (gemm, args, a, b, c) => gemm.Gemm(Enum.Parse<GemmVariant>(variant), a, transposeA, b, transposeB, c, args.M, args.N, args.K, args.Alpha, args.Beta));
        problem.AssertClose(result, transposeA, transposeB, 0.75f, -0.5f);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Ilgpu))]
    public void CuBlasOnANonCudaDeviceSaysSo(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        if (device.Kind == DeviceKind.Cuda)
        {
            Assert.Ignore("cuBLAS is available on cuda.");
        }

        var kernels = VariantsOn(device);
        using var buffer = kernels.Accelerator.Allocate1D<float>(4);
        var ex = Assert.Throws<NotSupportedException>(() => kernels.Gemm(GemmVariant.CuBlas, buffer.View, false, buffer.View, false, buffer.View, 2, 2, 2, 1f, 0f));
        Assert.That(ex!.Message, Does.Contain("CUDA"));
    }

    private static GemmVariants VariantsOn(Device device)
    {
        lock (VariantsByDevice)
        {
            if (!VariantsByDevice.TryGetValue(device.Name, out var kernels))
            {
                kernels = new GemmVariants(((IlgpuBackend)device.Backend).Accelerator);
                VariantsByDevice[device.Name] = kernels;
            }

            return kernels;
        }
    }

    private static IEnumerable<GemmVariant> Variants(string deviceName)
        => deviceName == "cuda"
            ? [GemmVariant.Naive, GemmVariant.Tiled, GemmVariant.TiledSplitK, GemmVariant.TiledLarge, GemmVariant.CuBlas]
            : [GemmVariant.Naive, GemmVariant.Tiled, GemmVariant.TiledSplitK, GemmVariant.TiledLarge];

    private static string Layout(bool transposeA, bool transposeB) => (transposeA ? "T" : "N") + (transposeB ? "T" : "N");

    private static float[] RunOnDevice(Device device, string variant, bool transposeA, bool transposeB, Problem problem, float alpha, float beta)
    {
        try
        {
            return RunKernels(VariantsOn(device), transposeA, transposeB, problem, alpha, beta, (gemm, args, a, b, c) => gemm.Gemm(Enum.Parse<GemmVariant>(variant), a, transposeA, b, transposeB, c, args.M, args.N, args.K, args.Alpha, args.Beta));
        }
        catch (NotSupportedException ex) when (ex.Message.StartsWith(GemmVariants.CuBlasMissing, StringComparison.Ordinal))
        {
            Assert.Ignore(ex.Message);
            throw;
        }
    }

    /// <summary>Runs <paramref name="gemm"/> on the problem's operands uploaded to the kernels' own accelerator, and reads C back.</summary>
    private static float[] RunKernels(GemmVariants kernels, bool transposeA, bool transposeB, Problem problem, float alpha, float beta, Action<GemmVariants, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>> gemm)
    {
        var accelerator = kernels.Accelerator;
        using var a = accelerator.Allocate1D(problem.A);
        using var b = accelerator.Allocate1D(problem.B);
        using var c = accelerator.Allocate1D(problem.C);
        gemm(kernels, new GemmArguments(transposeA, transposeB, problem.M, problem.N, problem.K, alpha, beta), a.View, b.View, c.View);
        return c.GetAsArray1D();
    }

    /// <summary>Random operands in [-1, 1) (the same buffers serve every layout: only their reading changes).</summary>
    private sealed class Problem
    {
        public Problem(int m, int n, int k, int seed)
        {
            (M, N, K) = (m, n, k);
            var random = new Random(seed);
            A = Enumerable.Range(0, m * k).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            B = Enumerable.Range(0, k * n).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            C = Enumerable.Range(0, m * n).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        }

        public int M { get; }

        public int N { get; }

        public int K { get; }

        public float[] A { get; }

        public float[] B { get; }

        public float[] C { get; }

        /// <summary>
        /// Tolerance: each float32 output sums K products, and every addition rounds with relative error
        /// u = 2⁻²⁴ ≈ 6e-8 of the running sum. Those errors have random signs, so they grow like √K·u·Σ|a·b|
        /// (not K·u, the worst case), plus a rounding each for alpha· and beta·C. We allow
        /// 1e-6 + 4e-6·√K·(|alpha|·Σ_p|a_ip·b_pj| + |beta·c_ij|): about 60× the expected √K·u error, yet far
        /// below the O(1) error of a wrong index, layout or edge. Any summation order (tiles, cuBLAS) fits it.
        /// </summary>
        public void AssertClose(float[] actual, bool transposeA, bool transposeB, float alpha, float beta)
        {
            double[] a = Array.ConvertAll(A, x => (double)x);
            double[] b = Array.ConvertAll(B, x => (double)x);
            double[] expected = Array.ConvertAll(C, x => (double)x);
            double[] absA = Array.ConvertAll(A, x => (double)Math.Abs(x));
            double[] absB = Array.ConvertAll(B, x => (double)Math.Abs(x));
            double[] magnitude = new double[M * N];
            ReferenceGemm.Gemm(transposeA, transposeB, M, N, K, alpha, a, b, beta, expected);
            ReferenceGemm.Gemm(transposeA, transposeB, M, N, K, Math.Abs(alpha), absA, absB, 0, magnitude);
            int failures = 0;
            string first = string.Empty;
            for (int index = 0; index < M * N; index++)
            {
                double oldC = beta == 0 ? 0 : Math.Abs(beta * (double)C[index]);
                double tolerance = 1e-6 + (4e-6 * Math.Sqrt(K) * (magnitude[index] + oldC));
                double error = Math.Abs(actual[index] - expected[index]);
                if (!(error <= tolerance))
                {
                    if (failures++ == 0)
                    {
                        first = $"C[{index / N},{index % N}] = {actual[index]}, expected {expected[index]} (|Δ| {error:E2} > {tolerance:E2})";
                    }
                }
            }

            Assert.That(failures, Is.Zero, $"{failures} of {M * N} elements of the {M}x{N}x{K} GEMM are off; first: {first}");
        }
    }
}
