namespace Tensorlet.Optim;

/// <summary>Adam's state on the host: the step count and the flat first and second moments.</summary>
/// <param name="Step">Steps taken.</param>
/// <param name="FirstMoment">m, in the parameter collection's order.</param>
/// <param name="SecondMoment">v, in the same order.</param>
public sealed record AdamState(int Step, float[] FirstMoment, float[] SecondMoment);
