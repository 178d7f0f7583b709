using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels;

/// <summary>
/// The range checks on integer arguments (sizes, counts, steps) of the library's projects, in place of
/// <see cref="ArgumentOutOfRangeException"/>'s ThrowIf helpers: the same exception type and ParamName (the argument's
/// expression), but the message is one line that names the argument, the range and the value got
/// ("tMax must be at least 1; got 0."). The value is in the message and not the exception's ActualValue, which .NET
/// would add to the message as a second line.
/// </summary>
internal static class ArgumentChecks
{
    /// <summary>Throws when <paramref name="value"/> is below 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static void ThrowIfNegative<T>(T value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
        where T : IBinaryInteger<T>
        => ThrowIfLessThan(value, T.Zero, paramName);

    /// <summary>Throws when <paramref name="value"/> is below 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is 0 or negative.</exception>
    public static void ThrowIfNegativeOrZero<T>(T value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
        where T : IBinaryInteger<T>
        => ThrowIfLessThan(value, T.One, paramName);

    /// <summary>Throws when <paramref name="value"/> is below <paramref name="minimum"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is less than <paramref name="minimum"/>.</exception>
    public static void ThrowIfLessThan<T>(T value, T minimum, [CallerArgumentExpression(nameof(value))] string? paramName = null)
        where T : IBinaryInteger<T>
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(paramName, string.Create(CultureInfo.InvariantCulture, $"{paramName} must be at least {minimum}; got {value}."));
        }
    }

    /// <summary>Throws when <paramref name="value"/> is outside [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is below <paramref name="start"/> or at least <paramref name="end"/>.</exception>
    public static void ThrowIfOutside<T>(T value, T start, T end, [CallerArgumentExpression(nameof(value))] string? paramName = null)
        where T : IBinaryInteger<T>
    {
        if (value < start || value >= end)
        {
            throw new ArgumentOutOfRangeException(paramName, string.Create(CultureInfo.InvariantCulture, $"{paramName} must be in [{start}, {end}); got {value}."));
        }
    }
}
