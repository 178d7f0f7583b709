namespace Tensorlet.Kernels.Cpu;

/// <summary>The portable GEMM microkernel: a 4 × 4 tile in plain floats, for hardware without SIMD.</summary>
internal static unsafe class GemmMicrokernelScalar
{
    public const int Mr = 4;
    public const int Nr = 4;

    /// <summary>Same contract as <see cref="GemmMicrokernel512.Run"/>, on a 4 × 4 tile.</summary>
    public static void Run(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill)
    {
        float* acc = stackalloc float[Mr * Nr];
        for (int t = 0; t < Mr * Nr; t++)
        {
            acc[t] = 0f;
        }

        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < Mr; i++)
            {
                float av = a[i];
                for (int j = 0; j < Nr; j++)
                {
                    acc[(i * Nr) + j] += av * b[j];
                }
            }

            a += Mr;
            b += Nr;
        }

        for (int t = 0; t < Mr * Nr; t++)
        {
            spill[t] = alpha * acc[t];
        }

        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }
}
