using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The widest-first loop (<see cref="FloatLanesLoop"/>) that the cells and optimizers share: every element exactly once,
/// each in the widest register the cap and the machine allow that still fits, single floats only for the last few.
/// The kernels' own tests cannot see this: a width skipped leaves its elements to narrower ones with the same results.
/// </summary>
public sealed class FloatLanesLoopTests
{
    private static readonly int[] Lengths = [0, 1, 3, 4, 7, 8, 12, 15, 16, 17, 28, 31, 45, 100];

    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void EveryElementRunsOnceInTheWidestRegisterThatFits(string name)
    {
        var cap = Enum.Parse<CpuVectorWidth>(name);
        foreach (int n in Lengths)
        {
            var seen = new int[n];
            var lanes = new int[n];
            FloatLanesLoop.Run(new RecordLanes(seen, lanes), n, cap);
            Assert.That(seen, Is.All.EqualTo(1), $"each element once, n = {n}, cap {cap}");
            Assert.That(lanes, Is.EqualTo(Expected(n, cap)), $"register widths, n = {n}, cap {cap}");
        }
    }

    /// <summary>Greedy from the widest allowed register down: what the loop must do, written plainly.</summary>
    private static int[] Expected(int n, CpuVectorWidth cap)
    {
        var widths = new List<int>();
        if (FloatLanes512.IsAccelerated)
        {
            widths.Add(16);
        }

        if (FloatLanes256.IsAccelerated)
        {
            widths.Add(8);
        }

        if (FloatLanes128.IsAccelerated)
        {
            widths.Add(4);
        }

        var lanes = new int[n];
        int i = 0;
        foreach (int width in widths.Where(w => w <= (int)cap))
        {
            while (i + width <= n)
            {
                lanes.AsSpan(i, width).Fill(width);
                i += width;
            }
        }

        lanes.AsSpan(i).Fill(1);
        return lanes;
    }

    /// <summary>Counts the visits of every element and notes the register width that covered it.</summary>
    private readonly struct RecordLanes(int[] seen, int[] lanes) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
        {
            int i = start;
            for (; i + TLanes.Count <= n; i += TLanes.Count)
            {
                for (int k = i; k < i + TLanes.Count; k++)
                {
                    seen[k]++;
                    lanes[k] = TLanes.Count;
                }
            }

            return i;
        }
    }
}
