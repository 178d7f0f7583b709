namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One elementwise loss, ℓ(x, y) and dℓ/dx, written once over <see cref="IFloatLanes{TVector}"/>; driven by
/// <see cref="CpuElementwiseLoss"/>. A struct, so the JIT specializes and inlines it.
/// </summary>
internal interface IElementwiseLossOperator
{
    /// <summary>The loss of prediction x against target y, with <paramref name="gradient"/> = dℓ/dx; weight is the positive weight (1 for a loss that takes none).</summary>
    TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct;
}
