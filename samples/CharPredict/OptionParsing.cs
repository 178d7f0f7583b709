using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Tensorlet.Samples.CharPredict;

/// <summary>Small helpers for declaring and reading options.</summary>
internal static class OptionParsing
{
    /// <summary>Rejects values ≤ 0 at parse time.</summary>
    public static Option<T> Positive<T>(this Option<T> option)
        where T : struct, System.Numerics.INumber<T>
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>();
            if (value <= T.Zero)
            {
                result.AddError($"{option.Name} must be positive; got {value.ToString(null, CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    /// <summary>Rejects nullable values ≤ 0 at parse time.</summary>
    public static Option<T?> PositiveOrNull<T>(this Option<T?> option)
        where T : struct, System.Numerics.INumber<T>
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T?>() is { } value && value <= T.Zero)
            {
                result.AddError($"{option.Name} must be positive; got {value.ToString(null, CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    /// <summary>Rejects values outside [<paramref name="min"/>, <paramref name="max"/>) at parse time.</summary>
    public static Option<T> InRange<T>(this Option<T> option, T min, T max)
        where T : struct, System.Numerics.INumber<T>
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>();
            if (value < min || value >= max)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be in [{min}, {max}); got {value}."));
            }
        });
        return option;
    }

    /// <summary>The value when the option was given on the command line; otherwise <paramref name="fallback"/>.</summary>
    public static T Given<T>(this ParseResult result, Option<T> option, T fallback)
        => result.GetResult(option) is { Implicit: false } ? result.GetValue(option)! : fallback;

    /// <summary>Whether the option was given on the command line.</summary>
    public static bool WasGiven(this ParseResult result, Option option)
        => result.GetResult(option) is { Implicit: false };
}
