using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The contract of a recurrent module's <c>FinalState</c>, on every device, for the LSTM and the GRU, unidirectional and
/// bidirectional: it is the module's buffer (the final state of a smaller batch shares the first rows of the largest
/// one's), <see cref="RnnState.Clone"/> keeps a copy of its own, and disposing it costs the module nothing but fresh
/// buffers.
/// </summary>
public sealed class RnnFinalStateTests
{
    private const int Input = 3;
    private const int Hidden = 4;
    private const int Steps = 5;

    private static IEnumerable<TestCaseData> Cases() =>
        from cell in new[] { "lstm", "gru" }
        from bidirectional in new[] { false, true }
        from device in TestDevices.All
        select new TestCaseData(cell, bidirectional, device);

    [TestCaseSource(nameof(Cases))]
    public void DisposingTheFinalStateOfASmallerBatchLeavesThatBatchSizeWorking(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        using var x4 = Input3(device, 4, 1);
        using var x2 = Input3(device, 2, 2);
        var expected4 = rnn.Forward(x4).ToArray();
        var expected2 = rnn.Forward(x2).ToArray();
        var expectedState = Values(FinalState(rnn));

        FinalState(rnn).Dispose();
        for (int call = 0; call < 2; call++)
        {
            Assert.That(rnn.Forward(x2).ToArray(), Is.EqualTo(expected2), $"batch 2, call {call}");
            Assert.That(Values(FinalState(rnn)), Is.EqualTo(expectedState), $"its final state, call {call}");
        }

        Assert.That(rnn.Forward(x4).ToArray(), Is.EqualTo(expected4), "batch 4");
        FinalState(rnn).Dispose();
        Assert.That(rnn.Forward(x2).ToArray(), Is.EqualTo(expected2), "batch 2 after the largest batch's final state was disposed");
        Assert.That(Values(FinalState(rnn)), Is.EqualTo(expectedState));
    }

    [TestCaseSource(nameof(Cases))]
    public void ACloneOwnsItsTensorsAndOutlivesLaterForwards(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        using var x4 = Input3(device, 4, 1);
        using var x2 = Input3(device, 2, 2);
        rnn.Forward(x4);
        var state = FinalState(rnn);
        var values = Values(state);
        using var clone = state.Clone();
        Assert.That(clone.GetType(), Is.EqualTo(state.GetType()), "an LstmState's clone is an LstmState, a GruState's a GruState");
        Assert.That((clone.Batch, clone.Hidden.Count), Is.EqualTo((4, state.Hidden.Count)));
        Assert.That(Values(clone), Is.EqualTo(values));

        rnn.Forward(x2);
        rnn.Forward(x4);
        Assert.That(Values(clone), Is.EqualTo(values), "later Forwards leave the clone alone");
        SetInitialState(rnn, clone);
        rnn.Forward(x4);
        rnn.Forward(x4);
        Assert.That(() => rnn.Forward(x4), Throws.Nothing, "a clone stays the caller's state");
        SetInitialState(rnn, null);

        var final = FinalState(rnn);
        var finalValues = Values(final);
        final.Clone().Dispose();
        Assert.That(Values(final), Is.EqualTo(finalValues), "disposing a clone leaves the module's state alone");
        clone.Dispose();
        Assert.That(() => clone.Clone(), Throws.TypeOf<ObjectDisposedException>());
    }

    private static RnnBase Create(string cell, bool bidirectional, Device device)
    {
        RnnBase rnn = cell == "lstm" ? new Lstm(Input, Hidden, 2, bidirectional: bidirectional) : new Gru(Input, Hidden, 2, bidirectional: bidirectional);
        rnn.Build(device, seed: 7);
        rnn.Eval();
        return rnn;
    }

    // [T, B, In] of values from a seed.
    private static Tensor Input3(Device device, int batch, int seed)
    {
        var random = new Random(seed);
        return device.FromArray([.. Enumerable.Range(0, Steps * batch * Input).Select(_ => random.NextSingle() - 0.5f)], Steps, batch, Input);
    }

    private static RnnState FinalState(RnnBase rnn) => rnn switch
    {
        Lstm lstm => lstm.FinalState!,
        Gru gru => gru.FinalState!,
        _ => throw new ArgumentException(rnn.GetType().Name),
    };

    private static void SetInitialState(RnnBase rnn, RnnState? state)
    {
        if (rnn is Lstm lstm)
        {
            lstm.InitialState = (LstmState?)state;
        }
        else
        {
            ((Gru)rnn).InitialState = (GruState?)state;
        }
    }

    // Every value of the state: h per entry, then c per entry for an LSTM.
    private static float[] Values(RnnState state) =>
        [.. state.Hidden.Concat(state is LstmState lstm ? lstm.Cell : []).SelectMany(t => t.ToArray())];
}
