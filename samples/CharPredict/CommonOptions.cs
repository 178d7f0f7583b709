using System.CommandLine;

namespace Tensorlet.Samples.CharPredict;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    /// <summary>--data: the archive or an extracted folder.</summary>
    public static Option<string?> Data() => new("--data")
    {
        HelpName = "PATH",
        Description = "20news-bydate.tar.gz, a folder holding it, or the extracted folder (default: $TENSORLET_DATA, the cache, or a download)",
    };

    /// <summary>--max-sequences: use only the corpus's first sequences (tests, quick looks).</summary>
    public static Option<int?> MaxSequences()
    {
        var option = OptionParsing.OptionalNumber("--max-sequences", "Use only the first N sequences of the corpus", NumberRange<int>.Positive());
        option.Hidden = true;
        return option;
    }

    /// <summary>--device.</summary>
    public static Option<string> Device() => new("--device") { Description = "auto, cpu, cuda or ilgpu-cpu", DefaultValueFactory = _ => "auto" };

    /// <summary>--seed.</summary>
    public static Option<int> Seed() => OptionParsing.Number("--seed", "Seed of the random draws", 1, new NumberRange<int>(int.MinValue, int.MaxValue));

    /// <summary>Restricts an option to the given values, returning it.</summary>
    public static Option<string> AcceptOnlyFromAmongFluent(this Option<string> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
