namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// A kernel's loop at one register width, run widest first by <see cref="FloatLanesLoop"/>: a struct that carries the
/// kernel's pointers and coefficients, so the JIT specializes and inlines it for each width.
/// <para>
/// Hand the pointers to a static method's parameters before the loop rather than reading the fields inside it: every
/// store through a float* might alias the struct's fields, so the JIT would reload them for every register.
/// </para>
/// </summary>
internal interface IFloatLanesSweep
{
    /// <summary>Processes elements [start, n) in whole registers of <typeparamref name="TLanes"/>; returns where it stopped.</summary>
    int Run<TLanes, TVector>(int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct;
}
