namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The transposition of a [rows, columns] matrix into [columns, rows], in tiles of <see cref="Tile"/> × Tile so both
/// sides are touched a few cache lines at a time rather than one element per line; each tile row is one target line
/// written whole.
/// </summary>
internal static unsafe class CpuTranspose
{
    private const int Tile = 16;

    /// <summary>
    /// target[c, r] = <paramref name="zero"/> + source[r, c]: with −0 a copy of every value, −0 included; with +0 a
    /// fold's sum of one term, which turns −0 into +0.
    /// </summary>
    public static void Matrix(float* source, int rows, int columns, float* target, float zero = -0f)
    {
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int c = c0; c < c1; c++)
                {
                    float* line = target + ((long)c * rows);
                    for (int r = r0; r < r1; r++)
                    {
                        line[r] = zero + source[((long)r * columns) + c];
                    }
                }
            }
        }
    }
}
