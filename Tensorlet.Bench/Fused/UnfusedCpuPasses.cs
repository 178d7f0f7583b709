using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// The unfused CPU baseline: one sweep over [rows, cols] (with row strides) per operation, on one thread, through the
/// library's own elementwise loop (<see cref="CpuElementwise"/>) and operator structs, the way an eager framework runs
/// a graph of elementwise operations.
/// </summary>
internal static unsafe class UnfusedCpuPasses
{
    /// <summary>y = op(x), row by row.</summary>
    public static void Map<TOp>(float* x, int xStride, float* y, int yStride, int rows, int cols)
        where TOp : struct, IUnaryOperator
    {
        for (int r = 0; r < rows; r++)
        {
            CpuElementwise.Unary(new ReadOnlySpan<float>(x + ((long)r * xStride), cols), new Span<float>(y + ((long)r * yStride), cols), default(TOp), CpuKernelPlan.Machine.Width);
        }
    }

    /// <summary>y = op(a, b), row by row.</summary>
    public static void Zip<TOp>(float* a, int aStride, float* b, int bStride, float* y, int yStride, int rows, int cols)
        where TOp : struct, IBinaryOperator
    {
        for (int r = 0; r < rows; r++)
        {
            CpuElementwise.Binary(
                new ReadOnlySpan<float>(a + ((long)r * aStride), cols), new ReadOnlySpan<float>(b + ((long)r * bStride), cols), new Span<float>(y + ((long)r * yStride), cols), default(TOp), CpuKernelPlan.Machine.Width);
        }
    }

    /// <summary>y = factor·x.</summary>
    public static void Scale(float* x, float factor, float* y, int n)
        => CpuElementwise.Unary(new ReadOnlySpan<float>(x, n), new Span<float>(y, n), new ScaleOperator(factor), CpuKernelPlan.Machine.Width);

    /// <summary>The maximum of x[0..n): the library's row sweep.</summary>
    public static float Max(float* x, int n) => CpuSoftmax.RowMax(x, n, CpuKernelPlan.Machine.Width);

    /// <summary>y = e^(x − shift), returning Σ y: the library's exp-and-sum sweep.</summary>
    public static float ExpShiftedSum(float* x, float shift, float* y, int n) => CpuSoftmax.ExpShiftedStore(x, y, n, shift, 1f, CpuKernelPlan.Machine.Width);
}

/// <summary>y = 1 − x² (the tanh derivative through its output, as its own pass in the unfused LSTM backward).</summary>
internal readonly struct OneMinusSquareOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Subtract(TLanes.Create(1f), TLanes.Multiply(x, x));
}
