namespace Tensorlet.Nn;

/// <summary>
/// nn.BatchNorm2d over input [N, C, H, W]: channel c's statistics are taken over its N·H·W values x[n, c, h, w], the
/// input read as its view [N, C, H·W] with <see cref="BatchNorm1d"/>'s kernels (<see cref="BatchNormModule"/> has the
/// normalization, its running statistics and its state_dict names).
/// </summary>
/// <param name="numFeatures">C, the size of dimension 1 of the input: the channels.</param>
/// <param name="epsilon">ε, added to the variance (nn.BatchNorm2d's <c>eps</c>).</param>
/// <param name="momentum">The running statistics' update factor, in [0, 1]: running = (1 − momentum)·running +
/// momentum·batch; null for their cumulative average over the batches so far (PyTorch's <c>momentum=None</c>).</param>
/// <param name="affine">Whether the layer has <c>weight</c> and <c>bias</c>.</param>
/// <param name="trackRunningStats">Whether the layer keeps running statistics and uses them in evaluation.</param>
/// <exception cref="ArgumentOutOfRangeException">C is not positive, ε is negative or not finite, or the momentum is outside [0, 1].</exception>
public sealed class BatchNorm2d(int numFeatures, float epsilon = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormModule(nameof(BatchNorm2d), spatial: true, numFeatures, epsilon, momentum, affine, trackRunningStats);
