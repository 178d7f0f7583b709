namespace Tensorlet.Samples.CharPredict;

/// <summary>The char-prediction app. Its commands (train, sample, compare, eval, data) are not written yet.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("CharPredict: the train, sample, compare, eval and data commands are not implemented yet.");
        return 2;
    }
}
