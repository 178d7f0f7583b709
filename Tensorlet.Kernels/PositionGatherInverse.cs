namespace Tensorlet.Kernels;

/// <summary>
/// The inverse of a position map, in compressed rows (CSR), for the backward of a gather of positions: the map sends
/// each output position p ∈ [0, P) to the input position map[p] ∈ [0, L) it copies; the inverse lists, for each input
/// position l, the output positions that copy it: copies[starts[l] .. starts[l + 1]), in increasing order of p. A
/// backward then sums each input position's few contributions itself, in that fixed order, with no atomics: the same
/// floats on every device and every run.
/// </summary>
internal static class PositionGatherInverse
{
    /// <summary>
    /// Writes starts [L + 1] and copies [P] for <paramref name="map"/> [P] over <paramref name="length"/> = L input
    /// positions. Throws on a map value outside [0, L) or spans of the wrong lengths, before writing.
    /// </summary>
    /// <exception cref="ArgumentException">starts is not L + 1 long or copies not P long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A map value is outside [0, L).</exception>
    public static void Build(ReadOnlySpan<int> map, int length, Span<int> starts, Span<int> copies)
    {
        if (starts.Length != length + 1 || copies.Length != map.Length)
        {
            throw new ArgumentException($"PositionGatherInverse: a map of {map.Length} positions over {length} needs {length + 1} starts and {map.Length} copies; got {starts.Length} and {copies.Length}.");
        }

        IndexChecks.ThrowIfAnyColumnOutside(map, length);

        // A counting sort by source position: starts[l + 1] counts the copies of l, its prefix sum places them, and a
        // walk in order of p fills each l's run in increasing p.
        starts.Clear();
        foreach (int source in map)
        {
            starts[source + 1]++;
        }

        for (int l = 0; l < length; l++)
        {
            starts[l + 1] += starts[l];
        }

        for (int p = 0; p < map.Length; p++)
        {
            copies[starts[map[p]]++] = p;
        }

        // Each starts[l] now holds the end of l's run, which is where l + 1's begins: shift them back by one.
        for (int l = length; l > 0; l--)
        {
            starts[l] = starts[l - 1];
        }

        starts[0] = 0;
    }
}
