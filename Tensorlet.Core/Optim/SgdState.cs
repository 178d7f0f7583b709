namespace Tensorlet.Optim;

/// <summary>SGD's state on the host: the step count and, with momentum, the flat momentum buffer.</summary>
/// <param name="Step">Steps taken (the buffer starts as the gradient of step 1).</param>
/// <param name="MomentumBuffer">The buffer, in the parameter collection's order; null without momentum.</param>
public sealed record SgdState(int Step, float[]? MomentumBuffer);
