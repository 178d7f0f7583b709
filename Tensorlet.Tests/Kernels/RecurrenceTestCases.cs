using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>The (T, B, H, initial state, threads) cases on which the fused LSTM and GRU recurrences are held to their step-by-step paths.</summary>
internal static class RecurrenceTestCases
{
    /// <summary>
    /// Whole slivers of NR per gate, and H that ends a gate in part of one (a sliver of its own per gate, zero-padded):
    /// under one sliver, one and a bit, and 100 (4 units past 3 slivers of 32); each on 1, 2 and 3 threads, from a zero
    /// and from a given initial state.
    /// </summary>
    public static IEnumerable<TestCaseData> Cases()
    {
        int nr = GemmGeometry.Machine.Nr;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (var (steps, batch, hidden) in new[] { (1, 5, nr), (4, 5, 2 * nr), (6, 100, 3 * nr), (3, 7, 8 * nr), (3, 5, Math.Max(1, nr / 2) + 1), (4, 7, nr + 3), (5, 100, 100) })
            {
                foreach (bool initial in new[] { false, true })
                {
                    yield return new TestCaseData(steps, batch, hidden, initial, threads)
                        .SetArgDisplayNames($"T={steps}", $"B={batch}", $"H={hidden}", initial ? "h0" : "zero h0", $"threads={threads}");
                }
            }
        }
    }
}
