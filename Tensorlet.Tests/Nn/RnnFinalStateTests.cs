using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The contract of a recurrent module's <c>FinalState</c>, on every device, for the LSTM and the GRU, unidirectional and
/// bidirectional: it is the module's buffer, valid until the next Forward (the final state of a smaller batch shares the
/// first rows of the largest one's); once a later Forward has overwritten it, it is refused as an <c>InitialState</c>, by
/// <see cref="RnnBase.CarryFrom"/>, <see cref="RnnState.Clone"/> and <see cref="RnnState.Reset"/> instead of being read
/// or written as a stale or mixed state, and disposing it frees nothing; <see cref="RnnState.Clone"/> keeps a copy; and
/// disposing the current one costs the module nothing but fresh buffers.
/// </summary>
public sealed class RnnFinalStateTests
{
    private const int Input = 3;
    private const int Hidden = 4;
    private const int Steps = 5;

    private static IEnumerable<TestCaseData> Cases() =>
        from cell in new[] { "lstm", "gru", "rnn" }
        from bidirectional in new[] { false, true }
        from device in TestDevices.All
        select new TestCaseData(cell, bidirectional, device);

    // CarryFrom refuses a bidirectional module.
    private static IEnumerable<TestCaseData> Unidirectional() =>
        from cell in new[] { "lstm", "gru", "rnn" }
        from device in TestDevices.All
        select new TestCaseData(cell, device);

    [TestCaseSource(nameof(Cases))]
    public void AFinalStateOverwrittenByAForwardOfAnotherBatchSizeIsRefusedAsTheInitialState(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        using var x4a = Input3(device, 4, 1);
        using var x2 = Input3(device, 2, 2);
        using var x4b = Input3(device, 4, 3);

        rnn.Forward(x4a);
        using var kept = FinalState(rnn).Clone();
        SetInitialState(rnn, kept);
        var expected = rnn.Forward(x4b).ToArray();

        SetInitialState(rnn, null);
        rnn.Forward(x4a);
        var held = FinalState(rnn);
        rnn.Forward(x2);
        var afterX2 = Values(FinalState(rnn));
        SetInitialState(rnn, held);
        var error = Assert.Throws<ArgumentException>(() => rnn.Forward(x4b))!;
        Assert.That(error.Message, Does.StartWith($"The {cell.ToUpperInvariant()} InitialState is a FinalState that a later Forward has overwritten"));
        Assert.That(error.Message, Does.Contain("copy it with FinalState.Clone()"));
        Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
        Assert.That(Values(FinalState(rnn)), Is.EqualTo(afterX2), "the refused Forward changed nothing");

        SetInitialState(rnn, kept);
        Assert.That(rnn.Forward(x4b).ToArray(), Is.EqualTo(expected), "a clone taken right after the Forward continues it");
    }

    [TestCaseSource(nameof(Cases))]
    public void AFinalStateOverwrittenByAForwardOfTheSameBatchSizeIsRefused(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        using var x1 = Input3(device, 4, 1);
        using var x2 = Input3(device, 4, 2);

        rnn.Forward(x1);
        var held = FinalState(rnn);
        rnn.Forward(x2);
        SetInitialState(rnn, held);
        Assert.That(() => rnn.Forward(x1), Throws.ArgumentException.With.Message.Contains("a later Forward has overwritten"));
        if (!bidirectional)
        {
            var carry = Assert.Throws<ArgumentException>(() => rnn.CarryFrom(held))!;
            Assert.That(carry.Message, Does.StartWith($"The state given to {cell.ToUpperInvariant()} CarryFrom is a FinalState that a later Forward has overwritten"));
            Assert.That(carry.ParamName, Is.EqualTo("state"));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void AFinalStateStaysRefusedOnceFinalStateIsReadAgainAfterTheForwardThatOverwroteIt(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        using var x1 = Input3(device, 4, 1);
        using var x2 = Input3(device, 4, 2);
        using var x2Small = Input3(device, 2, 3);

        // Overwritten by a Forward of its batch size, of the same started from it, and of a smaller batch size.
        foreach (var (next, given) in new[] { (x2, false), (x2, true), (x2Small, false) })
        {
            string label = $"overwritten by batch {next.Shape[1]}{(given ? ", started from it" : string.Empty)}";
            SetInitialState(rnn, null);
            rnn.Forward(x1);
            var held = FinalState(rnn);
            SetInitialState(rnn, given ? held : null);
            rnn.Forward(next);
            var current = FinalState(rnn);
            SetInitialState(rnn, held);
            Assert.That(() => rnn.Forward(x1), Throws.ArgumentException.With.Message.Contains("a later Forward has overwritten"), label);
            if (!bidirectional)
            {
                Assert.That(() => rnn.CarryFrom(held), Throws.ArgumentException.With.Message.Contains("a later Forward has overwritten"), $"{label}: CarryFrom");
            }

            Assert.That(current, Is.Not.SameAs(held), label);
            Assert.That(FinalState(rnn), Is.SameAs(current), $"{label}: read again before a write, the same object");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void AnOverwrittenFinalStateIsRefusedByCloneResetHiddenAndCellAndLeavesTheCurrentStateAlone(string cell, bool bidirectional, string deviceName)
    {
        // Its tensors are the module's buffers, which hold the later Forward's state: carried into the next Forward when
        // the module carries its state.
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional, device);
        rnn.CarryState = !bidirectional;
        using var x1 = Input3(device, 4, 1);
        using var x2 = Input3(device, 4, 2);
        rnn.Forward(x1);
        var held = FinalState(rnn);
        rnn.Forward(x2);
        var current = Values(FinalState(rnn));

        var cloneError = Assert.Throws<InvalidOperationException>(() => held.Clone())!;
        Assert.That(cloneError.Message, Does.StartWith($"This {held.GetType().Name} is a FinalState that a later Forward has overwritten"));
        Assert.That(cloneError.Message, Does.Contain("copy it with FinalState.Clone()").And.Not.Contain('\n'));
        var resetError = Assert.Throws<InvalidOperationException>(held.Reset)!;
        Assert.That(resetError.Message, Is.EqualTo(cloneError.Message));
        var hiddenError = Assert.Throws<InvalidOperationException>(() => _ = held.Hidden)!;
        Assert.That(hiddenError.Message, Is.EqualTo(cloneError.Message), "its h would read the later Forward's");
        if (held is LstmState lstmHeld)
        {
            Assert.That(Assert.Throws<InvalidOperationException>(() => _ = lstmHeld.Cell)!.Message, Is.EqualTo(cloneError.Message), "its c too");
        }

        Assert.That(Values(FinalState(rnn)), Is.EqualTo(current), "the refused Reset zeroed nothing");

        FinalState(rnn).Reset();
        Assert.That(Values(FinalState(rnn)), Is.All.EqualTo(0f), "the current FinalState resets");
    }

    [TestCaseSource(nameof(Cases))]
    public void DisposingAnOverwrittenFinalStateFreesNothingTheModuleUses(string cell, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x1 = Input3(device, 4, 1);
        using var x2 = Input3(device, 4, 2);
        using var x3 = Input3(device, 4, 3);
        var expected = Run(dispose: false);
        Assert.That(Run(dispose: true), Is.EqualTo(expected));

        // The next Forward continues from the state of x2's Forward: carried, or (bidirectional) given as InitialState.
        float[] Run(bool dispose)
        {
            using var rnn = Create(cell, bidirectional, device);
            rnn.CarryState = !bidirectional;
            rnn.Forward(x1);
            var held = FinalState(rnn);
            rnn.Forward(x2);
            if (dispose)
            {
                Assert.That(held.Dispose, Throws.Nothing, "IDisposable.Dispose does not throw");
            }

            Assert.That(() => Values(FinalState(rnn)), Throws.Nothing, "the current FinalState's tensors");
            SetInitialState(rnn, bidirectional ? FinalState(rnn) : null);
            return [.. rnn.Forward(x3).ToArray(), .. Values(FinalState(rnn))];
        }
    }

    [TestCaseSource(nameof(Unidirectional))]
    public void AFinalStateOverwrittenByCarryFromIsRefused(string cell, string deviceName)
    {
        // CarryFrom writes the state of its batch size into the module's buffers, the rows a larger batch's state shares.
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional: false, device);
        using var x4 = Input3(device, 4, 1);
        rnn.Forward(x4);
        var held = FinalState(rnn);
        using var resumed = CreateState(rnn, device, 2);
        rnn.CarryFrom(resumed);
        SetInitialState(rnn, held);
        Assert.That(() => rnn.Forward(x4), Throws.ArgumentException.With.Message.Contains("a later Forward has overwritten"));
    }

    [TestCaseSource(nameof(Unidirectional))]
    public void ADisposedCarriedStateIsRefusedUntilResetState(string cell, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var rnn = Create(cell, bidirectional: false, device);
        using var fresh = Create(cell, bidirectional: false, device);
        using var x = Input3(device, 2, 1);
        rnn.CarryState = true;
        rnn.Forward(x);
        FinalState(rnn).Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => rnn.Forward(x))!;
        Assert.That(error.Message, Does.Contain("call ResetState() to start from zeros").And.Not.Contain('\n'));
        Assert.That(() => rnn.Forward(x), Throws.TypeOf<ObjectDisposedException>(), "refused until ResetState");
        rnn.ResetState();
        Assert.That(rnn.Forward(x).ToArray(), Is.EqualTo(fresh.Forward(x).ToArray()), "after ResetState, from zeros");
    }

    [TestCaseSource(nameof(Cases))]
    public void TheFinalStateGivenAsTheInitialStateRightAfterItsForwardContinuesTheSequence(string cell, bool bidirectional, string deviceName)
    {
        // InitialState = FinalState after each Forward, batch sizes in turn, equals starting each Forward from a clone.
        var device = TestDevices.Get(deviceName);
        using var carried = Create(cell, bidirectional, device);
        using var cloned = Create(cell, bidirectional, device);
        var inputs = new[] { Input3(device, 4, 1), Input3(device, 4, 2), Input3(device, 2, 3), Input3(device, 2, 4), Input3(device, 4, 5) };
        RnnState? clone = null;
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                bool sameBatch = i > 0 && inputs[i].Shape[1] == inputs[i - 1].Shape[1];
                SetInitialState(carried, sameBatch ? FinalState(carried) : null);
                SetInitialState(cloned, sameBatch ? clone : null);
                Assert.That(carried.Forward(inputs[i]).ToArray(), Is.EqualTo(cloned.Forward(inputs[i]).ToArray()), $"batch {i}");
                clone?.Dispose();
                clone = FinalState(cloned).Clone();
            }
        }
        finally
        {
            clone?.Dispose();
            foreach (var x in inputs)
            {
                x.Dispose();
            }
        }
    }

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
        Assert.That(() => rnn.Forward(x4), Throws.Nothing, "a clone is never refused");
        SetInitialState(rnn, null);

        var final = FinalState(rnn);
        var finalValues = Values(final);
        final.Clone().Dispose();
        Assert.That(Values(final), Is.EqualTo(finalValues), "disposing a clone leaves the module's state alone");
        clone.Dispose();
        Assert.That(() => clone.Clone(), Throws.TypeOf<ObjectDisposedException>());
    }

    // A Forward refused for its input or its InitialState, of a batch larger than any yet, or on a state or input the
    // module cannot take: what the caller does next (Backward of the Forward before it, a Forward from its FinalState)
    // sees the module exactly as if the refused call had not been made.
    private static IEnumerable<TestCaseData> Refusals() =>
        from refusal in new[]
        {
            "token id", "initial state of another batch", "initial state of another size", "disposed initial state", "initial state on another device", "input on another device", "too large",
            "zero steps", "zero batch", "zero steps of token ids", "zero batch of token ids",
        }
        from cell in new[] { "lstm", "gru", "rnn" }
        from batchFirst in new[] { false, true }
        from bidirectional in new[] { false, true }
        from device in TestDevices.All
        select new TestCaseData(refusal, cell, batchFirst, bidirectional, device);

    [TestCaseSource(nameof(Refusals))]
    public void ARefusedForwardLosesNothing(string refusal, string cell, bool batchFirst, bool bidirectional, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var other = Device.Create("cpu", 1);

        // Gates of T·B·G·H values past an int: G·H = 192 or 256 (an RNN's one gate of H = 256) and one layer keep the
        // rest small, and the ids that many (8.4M at most).
        bool tooLarge = refusal == "too large";
        int gates = cell switch { "lstm" => 4, "gru" => 3, _ => 1 };
        int hidden = tooLarge ? (gates == 1 ? 256 : 64) : Hidden;
        RnnBase Make() => Create(cell, bidirectional, device, batchFirst, hidden, layers: tooLarge ? 1 : 2, dropout: 0.5f);
        var expected = KeepGoing(Make, device, batchFirst, null);
        var actual = KeepGoing(Make, device, batchFirst, (rnn, kept) =>
        {
            var error = Refuse(rnn, kept);

            // An ArgumentOutOfRangeException adds its value on a line of its own.
            Assert.That(error.Message, refusal == "token id" ? Is.Not.Empty : Does.Not.Contain('\n'), "one line");
        });
        string[] what = ["the output", "the kept FinalState", "the kept FinalState after the refusal", "dL/dx", "the shape of dL/dx", "the parameter gradients", "the next output", "the next FinalState"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }

        Exception Refuse(RnnBase rnn, RnnState kept)
        {
            int steps = tooLarge ? (int)((long)int.MaxValue / (gates * hidden) / 4) + 1 : Steps;
            int[] shape = batchFirst ? [4, steps] : [steps, 4];
            using var x4 = Dense(device, batchFirst, 4, 3);
            switch (refusal)
            {
                case "token id":
                    using (var ids = device.IndexFromArray([.. Enumerable.Range(0, 4 * steps).Select(i => i == 5 ? Input : i % Input)], shape))
                    {
                        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rnn.Forward(ids))!;
                        Assert.That(error.Message, Does.StartWith($"Index {Input} at position 5 is outside [0, {Input})."));
                        return error;
                    }

                case "too large":
                    using (var ids = device.IndexZeros(shape))
                    {
                        var error = Assert.Throws<ArgumentException>(() => rnn.Forward(ids))!;
                        Assert.That(error.Message, Does.Contain("more than one tensor holds"));
                        return error;
                    }

                case "zero steps" or "zero batch" or "zero steps of token ids" or "zero batch of token ids":
                    // Zero steps of batch 4, larger than any yet, whose final state would take the place of the kept one's.
                    int[] empty = refusal.StartsWith("zero steps", StringComparison.Ordinal) ? (batchFirst ? [4, 0] : [0, 4]) : (batchFirst ? [0, Steps] : [Steps, 0]);
                    bool tokenIds = refusal.EndsWith("token ids", StringComparison.Ordinal);
                    using (var ids = device.IndexZeros(empty))
                    using (var x = device.Zeros([.. empty, Input]))
                    {
                        var error = tokenIds ? Assert.Throws<ArgumentException>(() => rnn.Forward(ids))! : Assert.Throws<ArgumentException>(() => rnn.Forward(x))!;
                        Assert.That(error.Message, Does.StartWith($"The {cell.ToUpperInvariant()} takes at least one step and one sequence, but its input {(tokenIds ? ids.ShapeText : x.ShapeText)}"));
                        Assert.That(error.ParamName, Is.EqualTo("input"));
                        return error;
                    }

                case "initial state of another batch":
                    SetInitialState(rnn, kept);
                    var batchError = Assert.Throws<ArgumentException>(() => rnn.Forward(x4))!;
                    Assert.That(batchError.Message, Does.Contain("state is for batch 2"));
                    return batchError;

                case "input on another device":
                    using (var elsewhere = Dense(other, batchFirst, 4, 3))
                    {
                        var error = Assert.Throws<ArgumentException>(() => rnn.Forward(elsewhere))!;
                        Assert.That(error.Message, Does.Contain("copy the input to the module's device"));
                        return error;
                    }

                default:
                    using (var wider = Create(cell, bidirectional, device, batchFirst, hidden + 1, layers: 2, dropout: 0f))
                    using (var state = CreateState(refusal == "initial state of another size" ? wider : rnn, refusal == "initial state on another device" ? other : device, 4))
                    {
                        if (refusal == "disposed initial state")
                        {
                            state.Dispose();
                        }

                        if (!bidirectional)
                        {
                            Assert.That(() => rnn.CarryFrom(state), Throws.InstanceOf<ArgumentException>().Or.InstanceOf<ObjectDisposedException>(), "CarryFrom");
                            using var otherCell = Create(cell == "lstm" ? "gru" : "lstm", bidirectional, device, batchFirst, hidden, layers: 2, dropout: 0f);
                            using var otherKind = CreateState(otherCell, device, 4);
                            Assert.That(() => rnn.CarryFrom(otherKind), Throws.ArgumentException.With.Message.Contains("cannot stand for"), "CarryFrom, a state of the other cell");
                        }

                        SetInitialState(rnn, state);
                        var error = Assert.Catch(() => rnn.Forward(x4))!;
                        Assert.That(error, refusal == "disposed initial state" ? Is.InstanceOf<ObjectDisposedException>() : Is.InstanceOf<ArgumentException>());
                        Assert.That(error.Message, Does.Contain(refusal switch
                        {
                            "disposed initial state" => "InitialState has been disposed",
                            "initial state on another device" => "make the state on the module's device",
                            _ => $"hidden size {hidden + 1}",
                        }));
                        return error;
                    }
            }
        }
    }

    // In training, with dropout: a Forward of batch 2, `refuse` with its FinalState, then Backward of that Forward and a
    // Forward of batch 2 from that FinalState. Returns the output, the FinalState before and after `refuse`, dL/dx and its
    // shape, the parameter gradients, the next output and its FinalState.
    private static float[][] KeepGoing(Func<RnnBase> create, Device device, bool batchFirst, Action<RnnBase, RnnState>? refuse)
    {
        using var rnn = create();
        rnn.Train();
        using var x1 = Dense(device, batchFirst, 2, 1);
        using var x2 = Dense(device, batchFirst, 2, 2);
        var y = rnn.Forward(x1);
        var output = y.ToArray();
        var kept = FinalState(rnn);
        var keptValues = Values(kept);
        refuse?.Invoke(rnn, kept);
        var keptAfter = Values(kept);
        using var dy = device.FromArray([.. Enumerable.Range(0, (int)y.Length).Select(i => ((i % 7) - 3) / 7f)], [.. y.Shape]);
        var dx = rnn.Backward(dy)!;
        var gradients = rnn.Parameters.Parameters.SelectMany(p => p.Gradient.ToArray()).ToArray();
        SetInitialState(rnn, kept);
        var next = rnn.Forward(x2).ToArray();
        return [output, keptValues, keptAfter, dx.ToArray(), [.. dx.Shape.Select(n => (float)n)], gradients, next, Values(FinalState(rnn))];
    }

    private static RnnBase Create(string cell, bool bidirectional, Device device, bool batchFirst, int hidden, int layers, float dropout)
    {
        RnnBase rnn = cell switch
        {
            "lstm" => new Lstm(Input, hidden, layers, dropout, batchFirst, bidirectional),
            "gru" => new Gru(Input, hidden, layers, dropout, batchFirst, bidirectional),
            _ => new Rnn(Input, hidden, layers, RnnNonlinearity.Tanh, dropout, batchFirst, bidirectional),
        };
        rnn.Build(device, seed: 7);
        return rnn;
    }

    // [T, B, In], or [B, T, In] batch-first, of values from a seed.
    private static Tensor Dense(Device device, bool batchFirst, int batch, int seed)
    {
        var random = new Random(seed);
        return device.FromArray([.. Enumerable.Range(0, Steps * batch * Input).Select(_ => random.NextSingle() - 0.5f)], batchFirst ? [batch, Steps, Input] : [Steps, batch, Input]);
    }

    private static RnnState CreateState(RnnBase rnn, Device device, int batch) => rnn switch
    {
        Lstm lstm => lstm.CreateState(device, batch),
        Gru gru => gru.CreateState(device, batch),
        _ => ((Rnn)rnn).CreateState(device, batch),
    };

    private static RnnBase Create(string cell, bool bidirectional, Device device)
    {
        var rnn = Create(cell, bidirectional, device, batchFirst: false, Hidden, layers: 2, dropout: 0f);
        rnn.Eval();
        return rnn;
    }

    // [T, B, In] of values from a seed.
    private static Tensor Input3(Device device, int batch, int seed) => Dense(device, batchFirst: false, batch, seed);

    private static RnnState FinalState(RnnBase rnn) => rnn switch
    {
        Lstm lstm => lstm.FinalState!,
        Gru gru => gru.FinalState!,
        Rnn elman => elman.FinalState!,
        _ => throw new ArgumentException(rnn.GetType().Name),
    };

    private static void SetInitialState(RnnBase rnn, RnnState? state)
    {
        if (rnn is Lstm lstm)
        {
            lstm.InitialState = (LstmState?)state;
        }
        else if (rnn is Gru gru)
        {
            gru.InitialState = (GruState?)state;
        }
        else
        {
            ((Rnn)rnn).InitialState = (RnnHiddenState?)state;
        }
    }

    // Every value of the state: h per entry, then c per entry for an LSTM.
    private static float[] Values(RnnState state) =>
        [.. state.Hidden.Concat(state is LstmState lstm ? lstm.Cell : []).SelectMany(t => t.ToArray())];
}
