namespace Tensorlet.Kernels;

/// <summary>
/// The scalars of one torch.optim.SGD step, shared by the CPU and ILGPU kernels.
/// Public only because it is an ILGPU kernel argument (see <see cref="AdamCoefficients"/>).
/// </summary>
/// <param name="LearningRate">lr.</param>
/// <param name="Momentum">μ; 0 for plain SGD (no momentum buffer is read or written).</param>
/// <param name="OneMinusDampening">1 − dampening, the factor on the gradient in the momentum update.</param>
/// <param name="WeightDecay">The L2 penalty added to the gradient.</param>
/// <param name="Nesterov">1 for Nesterov momentum, else 0.</param>
/// <param name="FirstStep">1 on the first step, where torch sets the buffer to the gradient itself, else 0.</param>
internal readonly record struct SgdCoefficients(float LearningRate, float Momentum, float OneMinusDampening, float WeightDecay, int Nesterov, int FirstStep);
