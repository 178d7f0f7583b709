using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Bias fill, bias add and column sums for x [rows, columns]. The column sum runs in two deterministic stages, because one
/// thread per column (1024 threads for a 4H = 1024 bias) would leave a GPU mostly idle over 9900 rows: first one
/// thread per (column, block of <see cref="RowsPerBlock"/> rows) writes a double partial, then one thread per column
/// adds its partials in a fixed order.
/// </summary>
internal static class BiasKernels
{
    /// <summary>Rows summed by one thread of the first column-sum stage.</summary>
    public const int RowsPerBlock = 64;

    /// <summary>x[e] = row[e mod columns].</summary>
    public static void FillRows(Index1D e, ArrayView<float> x, ArrayView<float> row, int columns) => x[e] = row[e % columns];

    /// <summary>x[e] += bias[e mod columns].</summary>
    public static void AddBias(Index1D e, ArrayView<float> x, ArrayView<float> bias, int columns) => x[e] += bias[e % columns];

    /// <summary>Stage 1: partials[b, j] = Σ x[i, j] over rows i in block b. The thread index is b·columns + j, so a warp reads a contiguous row segment.</summary>
    public static void SumColumnsPartial(Index1D t, ArrayView<float> x, ArrayView<double> partials, int rows, int columns)
    {
        int b = t / columns;
        int j = t - (b * columns);
        int start = b * RowsPerBlock;
        int end = start + RowsPerBlock < rows ? start + RowsPerBlock : rows;
        double sum = 0;
        for (int i = start; i < end; i++)
        {
            sum += x[((long)i * columns) + j];
        }

        partials[t] = sum;
    }

    /// <summary>Stage 2: result[j] = (accumulate ≠ 0 ? result[j] : 0) + Σ_b partials[b, j].</summary>
    public static void SumColumnsFinish(Index1D j, ArrayView<double> partials, ArrayView<float> result, int blocks, int columns, int accumulate)
    {
        double sum = accumulate != 0 ? result[j] : 0.0;
        for (int b = 0; b < blocks; b++)
        {
            sum += partials[(b * columns) + j];
        }

        result[j] = (float)sum;
    }
}
