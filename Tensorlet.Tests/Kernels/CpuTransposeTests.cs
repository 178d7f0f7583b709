using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The poolings move blocks of planes to position-major and back through <see cref="CpuTranspose.Bits"/>, argmax ints
/// among them (−1, a NaN's bits, for a window with no tap): every bit of every element must arrive, whole 8 × 8
/// squares and the edges alike.
/// </summary>
public sealed unsafe class CpuTransposeTests
{
    [TestCase(1, 1)]
    [TestCase(3, 5)]
    [TestCase(8, 8)]
    [TestCase(13, 29)]
    [TestCase(16, 1024)]
    [TestCase(1024, 16)]
    [TestCase(4, 37)]
    public void BitsMovesEveryBitOfEveryElement(int rows, int columns)
    {
        var rng = new Random((rows * 100) + columns);
        var source = new int[rows * columns];
        for (int i = 0; i < source.Length; i++)
        {
            // Small ints (denormals as floats), −1 and other NaN payloads, −0, and ordinary floats.
            source[i] = (i % 4) switch
            {
                0 => rng.Next(-1, 1 << 20),
                1 => unchecked((int)(0xFF800001u + (uint)rng.Next(1 << 22))),
                2 => i % 8 == 2 ? int.MinValue : -1,
                _ => BitConverter.SingleToInt32Bits((float)((rng.NextDouble() * 2) - 1)),
            };
        }

        var target = new int[rows * columns];
        fixed (int* s = source, t = target)
        {
            CpuTranspose.Bits((float*)s, rows, columns, (float*)t);
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                Assert.That(target[(c * rows) + r], Is.EqualTo(source[(r * columns) + c]), $"[{r}, {c}]");
            }
        }
    }
}
