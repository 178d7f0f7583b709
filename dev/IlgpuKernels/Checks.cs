using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Dev.IlgpuKernels.Recurrence;

namespace Tensorlet.Dev.IlgpuKernels;

/// <summary>Each variant against its float64 reference, before anything is timed; each returns null when it agrees, else why not.</summary>
internal static class Checks
{
    /// <summary>
    /// Sampled entries of C (all of them for a small C) against float64 dot products, with alpha = 0.75 and beta = −0.5;
    /// the bound grows with √K and the entry's magnitude, as in the library's GEMM tests. <paramref name="skipped"/> when
    /// the variant cannot run here (cuBLAS without its library).
    /// </summary>
    public static string? Gemm(GemmVariants gemm, GemmVariant variant, GemmCase shape, out bool skipped)
    {
        skipped = false;
        (int m, int n, int k) = (shape.M, shape.N, shape.K);
        var rng = new Random(m + n + k);
        float[] a = Uniform(rng, m * k, 1), b = Uniform(rng, k * n, 1), c0 = Uniform(rng, m * n, 1);
        const float alpha = 0.75f, beta = -0.5f;
        var accelerator = gemm.Accelerator;
        using var da = accelerator.Allocate1D(a);
        using var db = accelerator.Allocate1D(b);
        using var dc = accelerator.Allocate1D(c0);
        try
        {
            gemm.Gemm(variant, da.View, shape.TransposeA, db.View, shape.TransposeB, dc.View, m, n, k, alpha, beta);
            accelerator.Synchronize();
        }
        catch (NotSupportedException ex) when (ex.Message.StartsWith(GemmVariants.CuBlasMissing, StringComparison.Ordinal))
        {
            skipped = true;
            return ex.Message;
        }

        float[] c = dc.GetAsArray1D();
        bool all = (long)m * n <= 4096;
        int samples = all ? m * n : 512;
        for (int s = 0; s < samples; s++)
        {
            int i = all ? s / n : s == 0 ? 0 : s == 1 ? m - 1 : rng.Next(m);
            int j = all ? s % n : s == 0 ? 0 : s == 1 ? n - 1 : rng.Next(n);
            double dot = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double product = (double)a[shape.TransposeA ? (p * m) + i : (i * k) + p] * b[shape.TransposeB ? (j * k) + p : (p * n) + j];
                dot += product;
                magnitude += Math.Abs(product);
            }

            double expected = (alpha * dot) + (beta * c0[(i * n) + j]);
            double error = Math.Abs(c[(i * n) + j] - expected);
            double tolerance = 1e-6 + (4e-6 * Math.Sqrt(k) * (magnitude + Math.Abs(c0[(i * n) + j])));
            if (!(error <= tolerance))
            {
                return $"C[{i},{j}] = {c[(i * n) + j]}, expected {expected} (|Δ| {error:E2} > {tolerance:E2})";
            }
        }

        return null;
    }

    /// <summary>
    /// Three steps of B = 70, H = 40 (partial groups of every tile both ways) with an initial state, forward and backward,
    /// against <see cref="ReferenceRecurrence"/>: every output within 1e-5 of its largest magnitude.
    /// </summary>
    public static string? Recurrence(Accelerator accelerator, RecurrenceRunner runner, RecurrenceVariant variant)
    {
        const int steps = 3, batch = 70, hidden = 40;
        var rng = new Random(5);
        float[] pre = Uniform(rng, steps * batch * 4 * hidden, 2), weight = Uniform(rng, 4 * hidden * hidden, 0.3f);
        float[] h0 = Uniform(rng, batch * hidden, 1), c0 = Uniform(rng, batch * hidden, 1), dHFromAbove = Uniform(rng, steps * batch * hidden, 1);
        using var gates = accelerator.Allocate1D(pre);
        using var cells = accelerator.Allocate1D<float>(steps * batch * hidden);
        using var hiddenStates = accelerator.Allocate1D<float>(steps * batch * hidden);
        using var h0Buffer = accelerator.Allocate1D(h0);
        using var c0Buffer = accelerator.Allocate1D(c0);
        using var weightBuffer = accelerator.Allocate1D(weight);
        using var dH = accelerator.Allocate1D(dHFromAbove);
        using var dc = accelerator.Allocate1D(new float[batch * hidden]); // dL/dc_T = 0; Allocate1D alone does not clear
        using var dPre = accelerator.Allocate1D<float>(steps * batch * 4 * hidden);
        runner.Run(variant, gates.View, cells.View, hiddenStates.View, h0Buffer.View, c0Buffer.View, weightBuffer.View, dH.View, dc.View, dPre.View, steps, batch, hidden);
        float[][] actual = [gates.GetAsArray1D(), cells.GetAsArray1D(), hiddenStates.GetAsArray1D(), dH.GetAsArray1D(), dc.GetAsArray1D(), dPre.GetAsArray1D()];
        double[][] expected = ReferenceRecurrence.Run(pre, h0, c0, weight, dHFromAbove, steps, batch, hidden);
        string[] names = ["gates", "c", "h", "dh with the recurrent terms", "dc0", "d(pre)"];
        for (int o = 0; o < names.Length; o++)
        {
            double scale = Math.Max(1e-3, expected[o].Max(Math.Abs));
            for (int i = 0; i < expected[o].Length; i++)
            {
                if (!(Math.Abs(actual[o][i] - expected[o][i]) <= 1e-5 * scale))
                {
                    return $"{names[o]}[{i}] = {actual[o][i]}, expected {expected[o][i]} (scale {scale:G3})";
                }
            }
        }

        return null;
    }

    /// <summary>Uniform floats in [−scale, scale).</summary>
    public static float[] Uniform(Random rng, int n, float scale)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }
}
