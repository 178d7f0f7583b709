namespace Tensorlet.Nn;

/// <summary>
/// nn.BatchNorm1d over input [N, C] or [N, C, L]: channel c's statistics are taken over its N·L values x[n, c, l]
/// (<see cref="BatchNormModule"/> has the normalization, its running statistics and its state_dict names).
/// </summary>
/// <param name="numFeatures">C, the size of dimension 1 of the input: the channels.</param>
/// <param name="epsilon">ε, added to the variance (nn.BatchNorm1d's <c>eps</c>).</param>
/// <param name="momentum">The running statistics' update factor, in [0, 1]: running = (1 − momentum)·running +
/// momentum·batch; null for their cumulative average over the batches so far (PyTorch's <c>momentum=None</c>).</param>
/// <param name="affine">Whether the layer has <c>weight</c> and <c>bias</c>.</param>
/// <param name="trackRunningStats">Whether the layer keeps running statistics and uses them in evaluation.</param>
/// <exception cref="ArgumentOutOfRangeException">C is not positive, ε is negative or not finite, or the momentum is outside [0, 1].</exception>
public sealed class BatchNorm1d(int numFeatures, float epsilon = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormModule(nameof(BatchNorm1d), spatial: false, numFeatures, epsilon, momentum, affine, trackRunningStats);
