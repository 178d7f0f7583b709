namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// The steps of an atomic write (<c>created</c>, <c>written</c>, <c>renamed</c>) and of a checkpoint pair's save
/// (<c>committed</c>), announced to an observer that only a test program sets: the save fault test's child
/// (<c>tests/SaveFaultChild</c>) prints each step and pauses there, so the test can kill it at a known step. With no
/// observer, the shipped case, reaching a step does nothing.
/// </summary>
internal static class SaveStep
{
    /// <summary>Called with the step's name and the file's path; set once, before any save.</summary>
    public static Action<string, string>? Observer { get; set; }

    /// <summary>Announces <paramref name="step"/> of the write of <paramref name="path"/> to the observer, if there is one.</summary>
    public static void Reached(string step, string path) => Observer?.Invoke(step, path);
}
