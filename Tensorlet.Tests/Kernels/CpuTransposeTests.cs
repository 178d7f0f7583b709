using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The poolings move blocks of planes to position-major and back through <see cref="CpuTranspose.Bits"/>, argmax ints
/// among them (−1, a NaN's bits, for a window with no tap): every bit of every element must arrive, whole 8 × 8
/// squares and the edges alike. <see cref="CpuTranspose.Matrix"/>, the convolutions' layout change, adds its zero to
/// every element on the way, squares and edges alike: −0 stays −0 as a copy and turns +0 as a fold's sum.
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

    [TestCase(8, 8, -0f)]
    [TestCase(8, 8, 0f)]
    [TestCase(37, 45, -0f)]
    [TestCase(37, 45, 0f)]
    [TestCase(1024, 32, 0f)]
    [TestCase(5, 3, 0f)]
    public void MatrixAddsItsZeroToEveryElement(int rows, int columns, float zero)
    {
        var rng = new Random((rows * 100) + columns);
        var source = new float[rows * columns];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i % 5 == 0 ? -0f : i % 7 == 0 ? float.NaN : (float)((rng.NextDouble() * 2) - 1);
        }

        var target = new float[rows * columns];
        fixed (float* s = source, t = target)
        {
            CpuTranspose.Matrix(s, rows, columns, t, zero);
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                float expected = zero + source[(r * columns) + c];
                Assert.That(BitConverter.SingleToInt32Bits(target[(c * rows) + r]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)), $"[{r}, {c}]");
            }
        }
    }
}
