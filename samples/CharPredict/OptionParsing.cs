using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Tensorlet.CommandLine;

/// <summary>
/// The command line's one validation layer for numbers, shared by every Tensorlet program (CharPredict and the Bench's
/// commands compile this file): every numeric option is made here, and its value goes through <see cref="Parse{T}"/>,
/// which turns text, NaN, Infinity and values outside the option's range into one parse error (one line, exit 2)
/// before any command runs. The ranges are each program's limits (for the app: docs/app.md, "Limits"). It also makes
/// the one-line error texts the programs print (<see cref="ErrorLine(ParseResult)"/>, <see cref="ErrorLine(Exception)"/>).
/// </summary>
internal static class OptionParsing
{
    // How --ngram-windows holds "all" (System.CommandLine cannot carry a parsed null); the parser refuses 0 as a count.
    private const int AllWindows = 0;

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
    public static Option<T?> OptionalNumber<T>(string name, string description, NumberRange<T> range, bool hidden = false)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => new(name)
        {
            Description = description,
            Hidden = hidden,
            CustomParser = result => Parse(result, name, range),
        };

    /// <summary>
    /// --ngram-windows: a positive count of windows per sequence, or <c>all</c>, read with <see cref="WindowsPerSequence"/>
    /// (null for all); <paramref name="defaultValue"/> when not given.
    /// </summary>
    public static Option<int> NgramWindows(string description, int? defaultValue) => new("--ngram-windows")
    {
        HelpName = "N|all",
        Description = description,
        DefaultValueFactory = _ => defaultValue ?? AllWindows,
        CustomParser = result => result.Tokens is [{ Value: var text }] && string.Equals(text, "all", StringComparison.OrdinalIgnoreCase)
            ? AllWindows
            : Parse(result, "--ngram-windows", NumberRange<int>.Positive()) ?? AllWindows,
    };

    /// <summary>The windows per sequence an --ngram-windows value stands for: null for all.</summary>
    public static int? WindowsPerSequence(int optionValue) => optionValue == AllWindows ? null : optionValue;

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
                ? OutOfRange(name, $"'{text}' is too large{(T.IsNegative(value) ? " in magnitude" : "")} for {type} (at most ±{Format(T.MaxValue)})", range)
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
            string given = T.IsZero(value) && T.IsNegative(value) ? text : string.Create(CultureInfo.InvariantCulture, $"{value}");
            result.AddError($"{name} must be {range}; got {given}.");
            return null;
        }

        return value;
    }

    // "--lr is out of range: WHY", and the option's range when the type's does not bound it: "; it must be in [0, 1)".
    private static string OutOfRange<T>(string name, string why, NumberRange<T> range)
        where T : struct, INumber<T>, IMinMaxValue<T>
        => $"{name} is out of range: {why}{(range.Max == T.MaxValue ? "" : $"; it must be {range}")}.";

    private static string Format<T>(T value)
        where T : INumber<T>
        => value.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>
    /// The parse error to show, on one line: an option's own error first (a flag missing its value takes the next flag as
    /// its value and leaves that flag's value unmatched: the missing value is the error to show).
    /// </summary>
    public static string ErrorLine(ParseResult parsed)
    {
        var error = parsed.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult or ArgumentResult) ?? parsed.Errors[0];
        return string.Join(' ', error.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>
    /// The message of an exception a run reports to its user, on one line: an ArgumentException's without the
    /// " (Parameter 'name')" (and "Actual value was ...") .NET appends, since the user never saw the parameter.
    /// </summary>
    public static string ErrorLine(Exception e)
    {
        if (e is ArgumentException { ParamName: { } name } argument)
        {
            string suffix = $" (Parameter '{name}')";
            string message = argument.Message;
            int at = message.IndexOf(suffix, StringComparison.Ordinal);
            return at >= 0 ? message[..at] : message;
        }

        return e.Message;
    }

    /// <summary>The value when the option was given on the command line; otherwise <paramref name="fallback"/>.</summary>
    public static T Given<T>(this ParseResult result, Option<T> option, T fallback)
        => result.GetResult(option) is { Implicit: false } ? result.GetValue(option)! : fallback;

    /// <summary>Whether the option was given on the command line.</summary>
    public static bool WasGiven(this ParseResult result, Option option)
        => result.GetResult(option) is { Implicit: false };
}

/// <summary>The values a numeric option accepts: from <see cref="Min"/> to <see cref="Max"/>, each end open or closed.</summary>
/// <typeparam name="T">The number type.</typeparam>
/// <param name="Min">The lower end.</param>
/// <param name="Max">The upper end (<c>T.MaxValue</c>: no upper limit beyond the type's).</param>
/// <param name="MinOpen">Whether <see cref="Min"/> itself is refused.</param>
/// <param name="MaxOpen">Whether <see cref="Max"/> itself is refused.</param>
internal readonly record struct NumberRange<T>(T Min, T Max, bool MinOpen = false, bool MaxOpen = false)
    where T : struct, INumber<T>, IMinMaxValue<T>
{
    /// <summary>Values above zero, up to <paramref name="max"/> (by default, any finite value).</summary>
    public static NumberRange<T> Positive(T? max = null) => new(T.Zero, max ?? T.MaxValue, MinOpen: true);

    /// <summary>Zero and above, with no upper limit beyond the type's.</summary>
    public static NumberRange<T> NonNegative() => new(T.Zero, T.MaxValue);

    /// <summary>Whether <paramref name="value"/> is accepted.</summary>
    public bool Contains(T value) => (MinOpen ? value > Min : value >= Min) && (MaxOpen ? value < Max : value <= Max);

    /// <summary>"positive", "positive and at most 100", "zero or more" or "in [0, 1)".</summary>
    public override string ToString()
    {
        string max = Max == T.MaxValue ? "" : $" and {(MaxOpen ? "below" : "at most")} {Format(Max)}";
        return MinOpen && Min == T.Zero ? "positive" + max
            : !MinOpen && Min == T.Zero && Max == T.MaxValue ? "zero or more"
            : $"in {(MinOpen ? '(' : '[')}{Format(Min)}, {Format(Max)}{(MaxOpen ? ')' : ']')}";
    }

    private static string Format(T value) => value.ToString(null, CultureInfo.InvariantCulture);
}
