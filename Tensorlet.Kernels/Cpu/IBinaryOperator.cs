namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// An elementwise d = f(x, y), written once over <see cref="IFloatLanes{TVector}"/> (see <see cref="IUnaryOperator"/>);
/// driven by <see cref="CpuElementwise"/>. A struct, so the JIT specializes and inlines it.
/// </summary>
internal interface IBinaryOperator
{
    TVector Invoke<TLanes, TVector>(TVector x, TVector y)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct;
}
