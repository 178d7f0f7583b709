namespace Tensorlet.Kernels;

/// <summary>
/// The per-step scalars of one Adam update, shared by the CPU and ILGPU kernels. The bias corrections are
/// computed in double on the host, as PyTorch does in Python, and rounded to float once.
/// Public only because it is an ILGPU kernel argument: ILGPU's CPU accelerator emits a task type holding kernel arguments, which must see their types.
/// </summary>
/// <param name="Beta1">β1.</param>
/// <param name="Beta2">β2.</param>
/// <param name="OneMinusBeta1">1 − β1.</param>
/// <param name="OneMinusBeta2">1 − β2.</param>
/// <param name="Epsilon">ε, added after the square root.</param>
/// <param name="WeightDecay">The L2 penalty added to the gradient (not decoupled: this is Adam, not AdamW).</param>
/// <param name="StepSize">lr / (1 − β1^step).</param>
/// <param name="InverseSqrtBiasCorrection2">1 / √(1 − β2^step).</param>
/// <param name="Amsgrad">1 to keep the running maximum of v and divide by its square root (torch's amsgrad), else 0; 0 reads and writes no maximum.</param>
internal readonly record struct AdamCoefficients(
    float Beta1, float Beta2, float OneMinusBeta1, float OneMinusBeta2, float Epsilon, float WeightDecay, float StepSize, float InverseSqrtBiasCorrection2, int Amsgrad)
{
    /// <summary>The scalars for step <paramref name="step"/> (counting from 1).</summary>
    public static AdamCoefficients For(float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step)
    {
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(beta2, step);
        return new AdamCoefficients(
            beta1,
            beta2,
            (float)(1 - (double)beta1),
            (float)(1 - (double)beta2),
            epsilon,
            weightDecay,
            (float)(learningRate / bc1),
            (float)(1 / Math.Sqrt(bc2)),
            amsgrad ? 1 : 0);
    }
}
