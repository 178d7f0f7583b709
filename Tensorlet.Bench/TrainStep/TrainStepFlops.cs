namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The GEMM floating-point operations of one training step (forward + backward), counted exactly for the
/// GEMMs Tensorlet runs (2·m·n·k each), so that achieved GFLOP/s = FLOPs / step time.
/// Elementwise work (cells, softmax, Adam, bias sums) is not counted: it is a few percent of the FLOPs
/// and bound by memory, not by FMA throughput.
/// </summary>
/// <remarks>
/// LSTM, T = 99 steps, batch B, hidden H, L layers, vocabulary V, rows R = T·B:
/// <list type="bullet">
/// <item>recurrent GEMMs, each layer: forward h·W_hhᵀ on steps 1..T−1 (step 0 starts from h = 0 and is
/// skipped), backward dh += d(pre)·W_hh on the same T−1 steps, and dW_hh as one GEMM over T−1 steps:
/// 3 · (T−1) · 2·B·H·4H.</item>
/// <item>input projection of layers 2..L, each: forward x·W_ihᵀ, dW_ih, dx: 3 · 2·R·H·4H. Layer 1's input is
/// one-hot, so its projection is a gather and its gradient a scatter-add: no FLOPs (PyTorch's dense one-hot
/// input adds 2 · 2·R·V·4H: forward and dW_ih).</item>
/// <item>the output Linear: forward, dW and dx: 3 · 2·R·H·V.</item>
/// </list>
/// n-gram MLP, batch B, hidden H, vocabulary V: L1 is a gather/scatter (no FLOPs; PyTorch's dense one-hot
/// L1 adds 2 · 2·B·N·H for N n-grams: forward and dW), L2 forward, dW and dx: 3 · 2·B·H·V.
/// <para>
/// CNN (<see cref="TrainStepCnn"/>), batch B: each 3×3 convolution from C_in to C_out channels over P output positions
/// (32·32, 16·16, 8·8) is one GEMM of 2·B·P·C_out·9·C_in forward (the unfolded input by the weight), one as large for
/// dW, and one as large for dx, except the first convolution's dx: the images need no gradient, so neither side
/// computes it (the training step calls Backward with computeInputGradient false). The Linear(128, 10): forward,
/// dW and dx, 3 · 2·B·128·10. In all 6.02 GFLOP at B = 100. The poolings, batch norms and the unfold and fold around
/// each GEMM are not counted.
/// </para>
/// </remarks>
internal static class TrainStepFlops
{
    /// <summary>The gates per unit of a recurrent cell, as <see cref="Recurrent"/> takes them: lstm 4, gru 3, rnn 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cell"/> is none of those.</exception>
    public static int Gates(string cell) => cell switch
    {
        "lstm" => 4,
        "gru" => 3,
        "rnn" => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(cell), $"The cells are lstm, gru and rnn; got '{cell}'."),
    };

    /// <summary>GEMM FLOPs of one LSTM (<paramref name="gates"/> = 4), GRU (3) or Elman RNN (1) training step: the 4H of the remarks become gates·H.</summary>
    public static double Recurrent(int gates, int batch, int steps, int hidden, int layers, int vocabulary)
    {
        double b = batch, t = steps, h = hidden, v = vocabulary, rows = t * b;
        double recurrent = 3 * (t - 1) * 2 * b * h * gates * h;
        double inputProjection = 3 * 2 * rows * h * gates * h;
        double output = 3 * 2 * rows * h * v;
        return (layers * recurrent) + ((layers - 1) * inputProjection) + output;
    }

    /// <summary>GEMM FLOPs of one n-gram MLP training step.</summary>
    public static double Ngram(int batch, int hidden, int vocabulary) => 3.0 * 2 * batch * hidden * vocabulary;

    /// <summary>
    /// GEMM FLOPs of one CNN training step on a batch of <paramref name="batch"/> images of <paramref name="channels"/>
    /// × <paramref name="size"/> × <paramref name="size"/>: a 3×3 convolution (padding 1) to each of <paramref name="widths"/>
    /// channels in turn, the size halved after each, then a Linear from the last width to <paramref name="classes"/>.
    /// </summary>
    public static double Cnn(int batch, int channels, int size, ReadOnlySpan<int> widths, int classes)
    {
        double flops = 3.0 * 2 * batch * widths[^1] * classes;
        for (int i = 0; i < widths.Length; i++)
        {
            double gemm = 2.0 * batch * size * size * widths[i] * 9 * channels;
            flops += (i == 0 ? 2 : 3) * gemm;
            channels = widths[i];
            size /= 2;
        }

        return flops;
    }
}
