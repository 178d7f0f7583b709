using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>The (T, B, H, initial state, threads) cases on which the fused LSTM, GRU and RNN recurrences are held to their step-by-step paths.</summary>
internal static class RecurrenceTestCases
{
    /// <summary>
    /// Whole slivers of NR per gate, and H that ends a gate in part of one (a sliver of its own per gate, zero-padded):
    /// under one sliver, one and a bit (also at batch 1), and 100 (4 units past 3 slivers of 32); each on 1, 2 and 3 threads, from a zero
    /// and from a given initial state.
    /// </summary>
    public static IEnumerable<TestCaseData> Cases() =>
        Shapes().Select(c => new TestCaseData(c.Steps, c.Batch, c.Hidden, c.Initial, c.Threads).SetArgDisplayNames(Names(c)));

    /// <summary><see cref="Cases"/> for each of nn.RNN's activations, tanh and relu (the last argument).</summary>
    public static IEnumerable<TestCaseData> RnnCases() =>
        from c in Shapes()
        from activation in new[] { Activation.Tanh, Activation.Relu }
        select new TestCaseData(c.Steps, c.Batch, c.Hidden, c.Initial, c.Threads, activation).SetArgDisplayNames([.. Names(c), activation.ToString()]);

    private static IEnumerable<(int Steps, int Batch, int Hidden, bool Initial, int Threads)> Shapes()
    {
        int nr = GemmGeometry.Machine.Nr;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (var (steps, batch, hidden) in new[] { (1, 5, nr), (4, 5, 2 * nr), (6, 100, 3 * nr), (3, 7, 8 * nr), (3, 5, Math.Max(1, nr / 2) + 1), (4, 7, nr + 3), (3, 1, nr + 3), (5, 100, 100) })
            {
                foreach (bool initial in new[] { false, true })
                {
                    yield return (steps, batch, hidden, initial, threads);
                }
            }
        }
    }

    private static string[] Names((int Steps, int Batch, int Hidden, bool Initial, int Threads) c) =>
        [$"T={c.Steps}", $"B={c.Batch}", $"H={c.Hidden}", c.Initial ? "h0" : "zero h0", $"threads={c.Threads}"];
}
