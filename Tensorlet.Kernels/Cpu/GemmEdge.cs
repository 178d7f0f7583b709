namespace Tensorlet.Kernels.Cpu;

/// <summary>The clipped store of a microkernel tile that overhangs the right or bottom edge of C.</summary>
internal static unsafe class GemmEdge
{
    /// <summary>c[i, j] = tile[i, j] + beta·c[i, j] for the valid rows × cols; tile already holds alpha·A·B. beta = 0 never reads C.</summary>
    public static void Store(float* tile, int tileStride, float* c, int ldc, int rows, int cols, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + (i * tileStride);
            float* row = c + ((long)i * ldc);
            if (beta == 0f)
            {
                for (int j = 0; j < cols; j++)
                {
                    row[j] = t[j];
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    row[j] = t[j] + (beta * row[j]);
                }
            }
        }
    }
}
