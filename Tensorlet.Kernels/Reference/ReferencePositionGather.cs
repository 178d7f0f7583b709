namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 gather of positions and its backward that the kernels are checked against, written from their
/// definitions over the map itself (the kernels' backward reads its inverse, <see cref="PositionGatherInverse"/>): the
/// forward copies, the backward walks every output position and adds its gradient onto the input position it copied.
/// </summary>
internal static class ReferencePositionGather
{
    /// <summary>output[r, p] = input[r, map[p]] for input [rows, L], map [P], output [rows, P].</summary>
    public static void Forward(ReadOnlySpan<double> input, int rows, int length, ReadOnlySpan<int> map, Span<double> output)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < map.Length; p++)
            {
                output[(r * map.Length) + p] = input[(r * length) + map[p]];
            }
        }
    }

    /// <summary>gradInput[r, l] = Σ over p with map[p] = l of gradOutput[r, p], 0 for none; gradInput [rows, L], gradOutput [rows, P].</summary>
    public static void Backward(ReadOnlySpan<double> gradOutput, int rows, ReadOnlySpan<int> map, int length, Span<double> gradInput)
    {
        gradInput.Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < map.Length; p++)
            {
                gradInput[(r * length) + map[p]] += gradOutput[(r * map.Length) + p];
            }
        }
    }
}
