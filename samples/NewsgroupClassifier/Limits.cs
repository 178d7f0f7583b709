namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>The largest values the command line accepts, and why.</summary>
internal static class Limits
{
    /// <summary>
    /// --max-chars: the longest post of 20news-bydate, stripped and cleaned, has 148,970 characters, so a longer window
    /// would only add padding in front of every post. It also keeps the windows' sizes in range: the train split's
    /// 11,314 posts of this many characters are 1.7 billion ids, under the 2^31 one array holds (larger sizes are
    /// computed in 64 bits and reported as out of memory, see ClassifierRun).
    /// </summary>
    public const int MaxChars = 150_000;
}
