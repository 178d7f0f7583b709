using Spectre.Console;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// Where a command writes. Interactive (a terminal) gets Spectre.Console's live progress bars and colours;
/// anything else (redirected output, tests, CI) gets plain lines, one per event.
/// </summary>
internal sealed class AppConsole
{
    public AppConsole(TextWriter output, TextWriter error, bool interactive)
    {
        Output = output;
        Error = error;
        Interactive = interactive;
        Spectre = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive)
        {
            // Plain output is read by programs and people alike; a wide table wraps less.
            Spectre.Profile.Width = 160;
        }
    }

    /// <summary>Standard output.</summary>
    public TextWriter Output { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>Whether live progress bars may be drawn.</summary>
    public bool Interactive { get; }

    /// <summary>The Spectre console over <see cref="Output"/>.</summary>
    public IAnsiConsole Spectre { get; }

    /// <summary>Writes one line of plain text (through Spectre when interactive, so live displays stay intact).</summary>
    public void Line(string text = "")
    {
        if (Interactive)
        {
            Spectre.Write(new Text(text + Environment.NewLine));
        }
        else
        {
            Output.WriteLine(text);
        }
    }

    /// <summary>Writes a warning to standard error.</summary>
    public void Warn(string text) => Error.WriteLine("warning: " + text);
}
