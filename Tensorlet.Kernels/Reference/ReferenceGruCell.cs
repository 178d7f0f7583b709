namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 GRU cell every GRU cell kernel is checked against: readable, not fast. PyTorch's nn.GRU formula and
/// gate order r, z, n along the 3H columns of each row, with the input and recurrent projections apart because the
/// reset gate scales only the recurrent part of n:
/// r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h = (1 − z)·n + z·hPrev,
/// where gi = x·W_ihᵀ + b_ih and gh = hPrev·W_hhᵀ + b_hh. Like the kernels, each element reads all its inputs
/// before it writes, so gates may alias gi, dgi may alias gates, dgh may alias gh, and dhPrev may alias dhNext.
/// </summary>
internal static class ReferenceGruCell
{
    /// <summary>Writes gates [B,3H] = r, z, n and h [B,H].</summary>
    public static void Forward(int batch, int hidden, ReadOnlySpan<double> gi, ReadOnlySpan<double> gh, ReadOnlySpan<double> hPrev, Span<double> gates, Span<double> h)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int gate = (b * 3 * hidden) + j;
                int cell = (b * hidden) + j;
                double r = ReferenceLstmCell.Sigmoid(gi[gate] + gh[gate]);
                double z = ReferenceLstmCell.Sigmoid(gi[gate + hidden] + gh[gate + hidden]);
                double n = Math.Tanh(gi[gate + (2 * hidden)] + (r * gh[gate + (2 * hidden)]));
                double hp = hPrev[cell];
                gates[gate] = r;
                gates[gate + hidden] = z;
                gates[gate + (2 * hidden)] = n;
                h[cell] = ((1 - z) * n) + (z * hp);
            }
        }
    }

    /// <summary>
    /// The chain rule through <see cref="Forward"/>, from the saved gates (r, z, n), gh (only its n block is read) and
    /// hPrev. The gradient reaching h is dh + dhNext (dhNext: what the next step passes back directly, z·dh'). Writes
    /// dgi and dgh [B,3H], which differ only in the n block (dgh_n = r·dgi_n), and dhPrev = (dh + dhNext)·z, the part of
    /// dL/dhPrev that does not go through W_hh.
    /// </summary>
    public static void Backward(
        int batch,
        int hidden,
        ReadOnlySpan<double> gates,
        ReadOnlySpan<double> gh,
        ReadOnlySpan<double> hPrev,
        ReadOnlySpan<double> dh,
        ReadOnlySpan<double> dhNext,
        Span<double> dgi,
        Span<double> dgh,
        Span<double> dhPrev)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int gate = (b * 3 * hidden) + j;
                int cell = (b * hidden) + j;
                double r = gates[gate];
                double z = gates[gate + hidden];
                double n = gates[gate + (2 * hidden)];
                double ghN = gh[gate + (2 * hidden)];
                double d = dh[cell] + dhNext[cell];

                // h = (1 − z)·n + z·hPrev.
                double dN = d * (1 - z);
                double dZ = d * (hPrev[cell] - n);
                double dHPrev = d * z;

                // n = tanh(gi_n + r·gh_n): tanh' = 1 − n².
                double dNPre = dN * (1 - (n * n));
                double dR = dNPre * ghN;

                // σ' = σ(1 − σ); r and z see gi and gh summed, so both get the same gradient.
                double dRPre = dR * r * (1 - r);
                double dZPre = dZ * z * (1 - z);
                dgi[gate] = dRPre;
                dgi[gate + hidden] = dZPre;
                dgi[gate + (2 * hidden)] = dNPre;
                dgh[gate] = dRPre;
                dgh[gate + hidden] = dZPre;
                dgh[gate + (2 * hidden)] = dNPre * r;
                dhPrev[cell] = dHPrev;
            }
        }
    }
}
