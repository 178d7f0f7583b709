using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The char models' cached views: flat time-major ids [T·B] as [T, B], and an output [T, B, V] as [T·B, V]; one per
/// source buffer and shape (the most recent <see cref="RecentViews{TView}.Capacity"/>), so batches of a few shapes in
/// turn make each view once.
/// </summary>
internal sealed class ShapeCache
{
    private readonly RecentViews<IndexTensor> ids = new();
    private readonly ShapeView matrix = new();

    public IndexTensor TimeMajor(IndexTensor flat, int batch)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(batch);
        int steps = (int)(flat.Length / batch);
        var view = ids.Find(flat.Storage, flat.Offset, [steps, batch]);
        return view is not null && !view.IsDisposed ? view : ids.Add(flat.Storage, flat.Offset, [steps, batch], flat.Reshape(steps, batch));
    }

    public Tensor Matrix(Tensor output) => output.Rank == 2 ? output : matrix.Matrix(output, ShapeView.RowsByLast(output), output.Shape[^1]);
}
