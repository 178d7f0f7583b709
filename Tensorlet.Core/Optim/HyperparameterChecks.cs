using System.Globalization;
using System.Numerics;

namespace Tensorlet.Optim;

/// <summary>
/// The optimizers' and schedules' argument checks, as torch.optim makes them (<c>0.0 &lt;= lr</c>, <c>0.0 &lt;= eps</c>, ...) and
/// stricter in one way: a value must also be finite. A comparison rejects NaN whatever its sign bit, where
/// <see cref="ArgumentOutOfRangeException.ThrowIfNegative{T}(T, string?)"/> lets a NaN with the sign bit clear through,
/// and an infinite learning rate or epsilon turns every parameter into NaN at the first step.
/// </summary>
internal static class HyperparameterChecks
{
    /// <summary>Throws unless <paramref name="value"/> (a float rate or a double factor) is finite and at least 0.</summary>
    public static void NonNegative<T>(T value, string name)
        where T : IFloatingPointIeee754<T>
    {
        if (!(value >= T.Zero) || T.IsPositiveInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number of at least 0; got {value}."));
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1), as torch.optim checks Adam's betas (NaN fails the comparison).</summary>
    public static void Fraction(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [0, 1); got {value}."));
        }
    }
}
