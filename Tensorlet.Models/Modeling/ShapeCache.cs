namespace Tensorlet.Models.Modeling;

/// <summary>The char models' cached views: flat time-major ids [T·B] as [T, B], and an output [T, B, V] as [T·B, V]; remade only when the source changes.</summary>
internal sealed class ShapeCache
{
    private IndexTensor? idsSource;
    private IndexTensor? ids;
    private Tensor? matrixSource;
    private Tensor? matrix;

    public IndexTensor TimeMajor(IndexTensor flat, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        int steps = (int)(flat.Length / batch);
        if (!ReferenceEquals(flat, idsSource) || ids is null || ids.IsDisposed || ids.Shape[0] != steps || ids.Shape[1] != batch)
        {
            idsSource = flat;
            ids = flat.Reshape(steps, batch);
        }

        return ids;
    }

    public Tensor Matrix(Tensor output)
    {
        if (output.Rank == 2)
        {
            return output;
        }

        if (!ReferenceEquals(output, matrixSource) || matrix is null || matrix.IsDisposed)
        {
            matrixSource = output;
            matrix = output.Reshape((int)(output.Length / output.Shape[^1]), output.Shape[^1]);
        }

        return matrix;
    }
}
