namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 elementwise and row-wise operations the tensor ops are checked against.</summary>
internal static class ReferenceRows
{
    /// <summary>y = a + alpha·b.</summary>
    public static void Add(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y, double alpha)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = a[i] + (alpha * b[i]);
        }
    }

    /// <summary>y = a·b.</summary>
    public static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = a[i] * b[i];
        }
    }

    /// <summary>x[r, j] *= scale[r].</summary>
    public static void ScaleRows(Span<double> x, ReadOnlySpan<double> scale)
    {
        int columns = x.Length / scale.Length;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= scale[i / columns];
        }
    }

    /// <summary>The first column of each row's maximum.</summary>
    public static int[] Argmax(ReadOnlySpan<double> x, int rows, int columns)
    {
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 1; j < columns; j++)
            {
                if (x[(r * columns) + j] > x[(r * columns) + result[r]])
                {
                    result[r] = j;
                }
            }
        }

        return result;
    }

    /// <summary>output[i, :] = table[indices[i], :].</summary>
    public static void GatherRows(ReadOnlySpan<double> table, int columns, ReadOnlySpan<int> indices, Span<double> output)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            table.Slice(indices[i] * columns, columns).CopyTo(output.Slice(i * columns, columns));
        }
    }

    /// <summary>output[i] = source[positions[i]].</summary>
    public static void GatherIndices(ReadOnlySpan<int> source, ReadOnlySpan<int> positions, Span<int> output)
    {
        for (int i = 0; i < positions.Length; i++)
        {
            output[i] = source[positions[i]];
        }
    }

    /// <summary>gradTable[indices[i], :] += gradOutput[i, :] for every i with indices[i] ≠ <paramref name="skipRow"/> (−1: every i).</summary>
    public static void ScatterAddRows(ReadOnlySpan<double> gradOutput, ReadOnlySpan<int> indices, Span<double> gradTable, int columns, int skipRow = -1)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] == skipRow)
            {
                continue;
            }

            for (int j = 0; j < columns; j++)
            {
                gradTable[(indices[i] * columns) + j] += gradOutput[(i * columns) + j];
            }
        }
    }

    /// <summary>torch.optim.SGD's step (PyTorch 1.13 _single_tensor_sgd) in float64; <paramref name="buffer"/> is null before the first step.</summary>
    public static void SgdStep(Span<double> parameters, ReadOnlySpan<double> gradients, ref double[]? buffer, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
    {
        var d = new double[parameters.Length];
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = gradients[i] + (weightDecay * parameters[i]);
        }

        if (momentum != 0)
        {
            if (buffer is null)
            {
                buffer = (double[])d.Clone();
            }
            else
            {
                for (int i = 0; i < d.Length; i++)
                {
                    buffer[i] = (momentum * buffer[i]) + ((1 - dampening) * d[i]);
                }
            }

            for (int i = 0; i < d.Length; i++)
            {
                d[i] = nesterov ? d[i] + (momentum * buffer[i]) : buffer[i];
            }
        }

        for (int i = 0; i < d.Length; i++)
        {
            parameters[i] -= lr * d[i];
        }
    }
}
