namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// An elementwise y = f(x), written once over <see cref="IFloatLanes{TVector}"/> so that every width (Vector512 down to
/// one float) runs the same maths; driven by <see cref="CpuElementwise"/>. A struct, so the JIT specializes and inlines it.
/// </summary>
internal interface IUnaryOperator
{
    TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct;
}
