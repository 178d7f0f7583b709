using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// The command line's one validation layer for numbers, in the style of samples/CharPredict's (this sample builds on its
/// own, against the packages, so it has its own copy): every numeric option is made here, and its value goes through
/// <see cref="Parse{T}"/>, which turns text, NaN, Infinity and values outside the option's range into one parse error
/// (one line, exit 2) before the corpus is read. A validator that read the value instead would throw, with a stack
/// trace, on text that does not parse.
/// </summary>
internal static class OptionParsing
{
    /// <summary>An option whose value must lie in <paramref name="range"/>; <paramref name="defaultValue"/> when not given.</summary>
    public static Option<T> Number<T>(string name, string description, T defaultValue, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Parse(result, name, range) ?? defaultValue,
        };

    /// <summary>An optional option (null when not given) whose value must lie in <paramref name="range"/>.</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => new(name)
        {
            Description = description,
            CustomParser = result => Parse(result, name, range),
        };

    /// <summary>
    /// Parses the option's single token as invariant-culture <typeparamref name="T"/> (integers take no decimal point or
    /// exponent), rejecting NaN, ±Infinity, numbers the type cannot hold (1e99 or 1e-99 as a float, 2^31 as an int) and
    /// values outside <paramref name="range"/>; null, with an error added, otherwise.
    /// </summary>
    public static T? Parse<T>(ArgumentResult result, string name, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        if (result.Tokens.Count != 1)
        {
            result.AddError($"{name} needs one value.");
            return null;
        }

        string text = result.Tokens[0].Value;
        bool integer = typeof(T) != typeof(float) && typeof(T) != typeof(double);
        var styles = integer ? NumberStyles.AllowLeadingSign : NumberStyles.Float;
        if (!T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value))
        {
            if (text.StartsWith("--", StringComparison.Ordinal))
            {
                // The parser hands the next flag to an option whose value is missing.
                result.AddError($"{name} needs a value; got the flag '{text}'.");
                return null;
            }

            // A whole number too large for the type is a value out of range, not a malformed one.
            result.AddError(integer && BigInteger.TryParse(text, styles, CultureInfo.InvariantCulture, out _)
                ? $"{name} must be {range}; got {text}."
                : $"{name} takes {(integer ? "a whole number" : "a number")}; got '{text}'.");
            return null;
        }

        // A float parses a finite number beyond its largest (1e99) as infinity, and one below its smallest (1e-99) as
        // zero: both are values out of the type's range, told apart from the text "Infinity" by the digits.
        string type = typeof(T) == typeof(float) ? "a float" : "a double";
        if (!T.IsFinite(value))
        {
            result.AddError(T.IsInfinity(value) && text.Any(char.IsAsciiDigit)
                ? $"{name} is out of range: '{text}' is too large{(T.IsNegative(value) ? " in magnitude" : "")} for {type} (at most ±{Format(T.MaxValue)})."
                : $"{name} must be a finite number; got '{text}'.");
            return null;
        }

        // (A negative one, -1e-99, is refused below as what it is: a negative number.)
        if (!integer && T.IsZero(value) && !range.Contains(value) && !text.TrimStart().StartsWith('-') && text.Split('e', 'E')[0].Any(c => c is >= '1' and <= '9'))
        {
            result.AddError($"{name} must be {range}; '{text}' is too small for {type} and rounds to 0.");
            return null;
        }

        if (!range.Contains(value))
        {
            // A negative number too small for the type reads as -0; the text says what was given.
            string given = T.IsZero(value) && T.IsNegative(value) ? text : Format(value);
            result.AddError($"{name} must be {range}; got {given}.");
            return null;
        }

        return value;
    }

    /// <summary>
    /// The parse error to show, on one line: an option's own error first (a flag missing its value takes the next flag as
    /// its value and leaves that flag's value unmatched: the missing value is the error to show).
    /// </summary>
    public static string ErrorLine(ParseResult parsed)
    {
        var error = parsed.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult or ArgumentResult) ?? parsed.Errors[0];
        return string.Join(' ', error.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static string Format<T>(T value)
        where T : INumber<T>
        => value.ToString(null, CultureInfo.InvariantCulture);
}

/// <summary>The values a numeric option accepts: from <see cref="Min"/> to <see cref="Max"/>, each end open or closed.</summary>
/// <typeparam name="T">The number type.</typeparam>
/// <param name="Min">The lower end.</param>
/// <param name="Max">The upper end (<c>T.MaxValue</c>: no upper limit beyond the type's).</param>
/// <param name="MinOpen">Whether <see cref="Min"/> itself is refused.</param>
internal readonly record struct NumberRange<T>(T Min, T Max, bool MinOpen = false)
    where T : struct, INumber<T>, IMinMaxValue<T>
{
    /// <summary>Values above zero, up to <paramref name="max"/> (by default, any finite value).</summary>
    public static NumberRange<T> Positive(T? max = null) => new(T.Zero, max ?? T.MaxValue, MinOpen: true);

    /// <summary>Any value the type holds (finite, for a float).</summary>
    public static NumberRange<T> Any() => new(T.MinValue, T.MaxValue);

    /// <summary>Whether <paramref name="value"/> is accepted.</summary>
    public bool Contains(T value) => (MinOpen ? value > Min : value >= Min) && value <= Max;

    /// <summary>"positive", "positive and at most 100" or "in [-10, 10]".</summary>
    public override string ToString()
    {
        string max = Max == T.MaxValue ? "" : $" and at most {Format(Max)}";
        return MinOpen && Min == T.Zero ? "positive" + max : $"in {(MinOpen ? '(' : '[')}{Format(Min)}, {Format(Max)}]";
    }

    private static string Format(T value) => value.ToString(null, CultureInfo.InvariantCulture);
}
