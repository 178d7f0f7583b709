using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels;

/// <summary>
/// The inverted-dropout rule every device applies to the Philox words of <see cref="Philox"/>: an element is kept when its
/// word, as a uniform in [0, 1), is ≥ p, and a kept element is scaled by 1/(1 − p). Plain float arithmetic, so the CPU
/// kernel and the ILGPU kernel compute the same mask and the same floats.
/// </summary>
internal static class DropoutMask
{
    /// <summary>1/(1 − p) in float32, the factor on kept elements.</summary>
    public static float KeepScale(float p) => 1f / (1f - p);

    /// <summary>The factor of the element that draws <paramref name="bits"/>: <paramref name="scale"/> if kept, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Factor(uint bits, float p, float scale) => Philox.ToUniform(bits) >= p ? scale : 0f;
}
