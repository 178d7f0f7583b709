using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Bench;

/// <summary>The unfused baseline on an ILGPU accelerator: one small kernel launch per elementwise operation.</summary>
internal sealed class UnfusedIlgpuKernels
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> zip;
    private readonly Action<Index1D, ArrayView<float>, int> rowSoftmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> log;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> gather;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float> gradient;

    public UnfusedIlgpuKernels(Accelerator accelerator)
    {
        zip = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(ZipKernel);
        rowSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int>(RowSoftmaxKernel);
        log = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(LogKernel);
        gather = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(GatherKernel);
        gradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float>(GradientKernel);
    }

    private enum Op
    {
        Sigmoid,
        Tanh,
        OneMinusSquare,
        Multiply,
        Add,
        SigmoidBackward,
        TanhBackward,
    }

    public void Forward(Tensor pre, Tensor cPrev, Tensor gates, Tensor c, Tensor h, Tensor[] scratch, int batch, int hidden)
    {
        int n = hidden, w = 4 * hidden;
        ArrayView<float> p = pre.View, g = gates.View, t = scratch[0].View;
        for (int k = 0; k < 4; k++)
        {
            Zip(k == 2 ? Op.Tanh : Op.Sigmoid, p.SubView(k * n), w, p.SubView(k * n), w, g.SubView(k * n), w, batch, n);
        }

        Zip(Op.Multiply, g.SubView(n), w, cPrev.View, n, c.View, n, batch, n);
        Zip(Op.Multiply, g, w, g.SubView(2 * n), w, t, n, batch, n);
        Zip(Op.Add, c.View, n, t, n, c.View, n, batch, n);
        Zip(Op.Tanh, c.View, n, c.View, n, t, n, batch, n);
        Zip(Op.Multiply, g.SubView(3 * n), w, t, n, h.View, n, batch, n);
    }

    public void Backward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPre, Tensor dcPrev, Tensor[] scratch, int batch, int hidden)
    {
        int n = hidden, w = 4 * hidden;
        ArrayView<float> g = gates.View, d = dPre.View;
        ArrayView<float> tc = scratch[0].View, t1 = scratch[1].View, t2 = scratch[2].View, dc = scratch[3].View;
        ArrayView<float> dI = scratch[4].View, dF = scratch[5].View, dG = scratch[6].View, dO = scratch[7].View;
        Zip(Op.Tanh, c.View, n, c.View, n, tc, n, batch, n);
        Zip(Op.Multiply, dh.View, n, tc, n, dO, n, batch, n);
        Zip(Op.OneMinusSquare, tc, n, tc, n, t1, n, batch, n);
        Zip(Op.Multiply, dh.View, n, g.SubView(3 * n), w, t2, n, batch, n);
        Zip(Op.Multiply, t2, n, t1, n, t2, n, batch, n);
        Zip(Op.Add, dcNext.View, n, t2, n, dc, n, batch, n);
        Zip(Op.Multiply, dc, n, g.SubView(2 * n), w, dI, n, batch, n);
        Zip(Op.Multiply, dc, n, cPrev.View, n, dF, n, batch, n);
        Zip(Op.Multiply, dc, n, g, w, dG, n, batch, n);
        Zip(Op.Multiply, dc, n, g.SubView(n), w, dcPrev.View, n, batch, n);
        Zip(Op.SigmoidBackward, g, w, dI, n, d, w, batch, n);
        Zip(Op.SigmoidBackward, g.SubView(n), w, dF, n, d.SubView(n), w, batch, n);
        Zip(Op.TanhBackward, g.SubView(2 * n), w, dG, n, d.SubView(2 * n), w, batch, n);
        Zip(Op.SigmoidBackward, g.SubView(3 * n), w, dO, n, d.SubView(3 * n), w, batch, n);
    }

    public void SoftmaxCrossEntropy(
        Tensor logits, IndexTensor targets, Tensor probabilities, Tensor logProbabilities, Tensor losses, Tensor dLogits, int rows, int classes, float gradScale)
    {
        Copy(logits, probabilities);
        rowSoftmax(rows, probabilities.View, classes);
        log(rows * classes, probabilities.View, logProbabilities.View);
        gather(rows, logProbabilities.View, targets.View, losses.View, classes);
        Copy(probabilities, dLogits);
        gradient(rows * classes, dLogits.View, targets.View, dLogits.View, classes, gradScale);
    }

    private static void Copy(Tensor source, Tensor destination) => source.View.CopyTo(destination.View);

    private void Zip(Op op, ArrayView<float> a, int aStride, ArrayView<float> b, int bStride, ArrayView<float> y, int yStride, int rows, int cols)
        => zip(rows * cols, a, b, y, aStride, bStride, yStride, cols, (int)op);

    private static void ZipKernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int aStride, int bStride, int yStride, int cols, int op)
    {
        int r = index / cols;
        int j = index - (r * cols);
        float x = a[(r * aStride) + j];
        float z = b[(r * bStride) + j];
        float result = op switch
        {
            0 => 1f / (1f + XMath.Exp(-x)),
            1 => XMath.Tanh(x),
            2 => 1f - (x * x),
            3 => x * z,
            4 => x + z,
            5 => z * x * (1f - x),
            _ => z * (1f - (x * x)),
        };
        y[(r * yStride) + j] = result;
    }

    // One thread per row: the straightforward softmax, in place.
    private static void RowSoftmaxKernel(Index1D row, ArrayView<float> x, int classes)
    {
        long start = (long)(int)row * classes;
        float max = float.NegativeInfinity;
        for (int k = 0; k < classes; k++)
        {
            max = XMath.Max(max, x[start + k]);
        }

        float sum = 0f;
        for (int k = 0; k < classes; k++)
        {
            float e = XMath.Exp(x[start + k] - max);
            x[start + k] = e;
            sum += e;
        }

        for (int k = 0; k < classes; k++)
        {
            x[start + k] /= sum;
        }
    }

    private static void LogKernel(Index1D index, ArrayView<float> x, ArrayView<float> y) => y[index] = XMath.Log(x[index]);

    private static void GatherKernel(Index1D row, ArrayView<float> logP, ArrayView<int> targets, ArrayView<float> losses, int classes)
        => losses[row] = -logP[((long)(int)row * classes) + targets[row]];

    private static void GradientKernel(Index1D index, ArrayView<float> p, ArrayView<int> targets, ArrayView<float> d, int classes, float gradScale)
    {
        int row = index / classes;
        int k = index - (row * classes);
        d[index] = (p[index] - (k == targets[row] ? 1f : 0f)) * gradScale;
    }
}
