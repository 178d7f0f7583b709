using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Lstm"/> and <see cref="Gru"/> with batchFirst: a module given [B, T, In] (or token ids [B, T]) computes
/// exactly what the time-major module computes on the same data transposed to [T, B, In]: the outputs, the final states,
/// every parameter gradient and the input gradient, float for float, since the batch-first module only reorders rows
/// around the same time-major recurrence. The float64 check of the recurrence itself, batch-first included, is
/// RecurrenceFiniteDifferenceTests.
/// </summary>
public sealed class BatchFirstTests
{
    private const int Batch = 3;
    private const int InputSize = 4;
    private const int Layers = 2;

    public enum Input
    {
        Dense,
        Ids,
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from cell in new[] { "lstm", "gru", "rnn" }
        from input in new[] { Input.Dense, Input.Ids }
        from device in TestDevices.All
        from hidden in device == "cpu" ? new[] { 5, GemmGeometry.Machine.Nr } : [5]
        select new TestCaseData(cell, input, device, hidden).SetArgDisplayNames(cell, input.ToString(), device, $"H={hidden}");

    /// <summary>
    /// Two layers with dropout in training mode, from a random initial state and then the carried one, over batches of
    /// 5, 2 and 5 steps (the reordering is rebuilt for each new shape); the second batch's output gradient comes as the
    /// [B·T, H] matrix a loss gives. H = NR takes the cpu's fused recurrence and its two-layer wavefront.
    /// </summary>
    [TestCaseSource(nameof(Cases))]
    public void ABatchFirstModuleMatchesTheTimeMajorModuleOnTransposedDataExactly(string cell, Input input, string deviceName, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        int inputSize = input == Input.Ids ? 7 : InputSize;
        using var timeMajor = Create(cell, inputSize, hidden, batchFirst: false);
        using var batchFirst = Create(cell, inputSize, hidden, batchFirst: true);
        timeMajor.Build(device, seed: 3);
        batchFirst.Build(device, seed: 3);
        Assert.That(batchFirst.BatchFirst && !timeMajor.BatchFirst);
        Assert.That(batchFirst.StateDict().Keys, Is.EqualTo(timeMajor.StateDict().Keys), "the state_dict does not depend on the layout");
        var initial = Uniform(Layers * Batch * hidden, hidden);
        using var timeMajorState = StartFrom(timeMajor, device, initial);
        using var batchFirstState = StartFrom(batchFirst, device, initial);

        var random = new Random(hidden);
        int call = 0;
        foreach (int steps in new[] { 5, 2, 5 })
        {
            string label = $"call {call} ({steps} steps)";
            timeMajor.Parameters.ZeroGradients();
            batchFirst.Parameters.ZeroGradients();
            var x = Uniform(steps * Batch * inputSize, random.Next());
            var ids = Enumerable.Range(0, steps * Batch).Select(_ => random.Next(inputSize)).ToArray();
            using var xTimeMajor = device.FromArray(x, steps, Batch, inputSize);
            using var xBatchFirst = device.FromArray(SwapFirstTwo(x, steps, Batch, inputSize), Batch, steps, inputSize);
            using var idsTimeMajor = device.IndexFromArray(ids, steps, Batch);
            using var idsBatchFirst = device.IndexFromArray(SwapFirstTwo(ids, steps, Batch, 1), Batch, steps);
            var expected = (input == Input.Ids ? timeMajor.Forward(idsTimeMajor) : timeMajor.Forward(xTimeMajor)).ToArray();
            var output = input == Input.Ids ? batchFirst.Forward(idsBatchFirst) : batchFirst.Forward(xBatchFirst);
            Assert.That(output.Shape, Is.EqualTo(new[] { Batch, steps, hidden }), label);
            Assert.That(output.ToArray(), Is.EqualTo(SwapFirstTwo(expected, steps, Batch, hidden)), $"{label}: output");

            var dy = Uniform(steps * Batch * hidden, random.Next());
            using var dyTimeMajor = device.FromArray(dy, steps, Batch, hidden);
            using var dyBatchFirst = call == 1
                ? device.FromArray(SwapFirstTwo(dy, steps, Batch, hidden), Batch * steps, hidden)
                : device.FromArray(SwapFirstTwo(dy, steps, Batch, hidden), Batch, steps, hidden);
            var dxTimeMajor = timeMajor.Backward(dyTimeMajor);
            var dx = batchFirst.Backward(dyBatchFirst);
            if (input == Input.Ids)
            {
                Assert.That(dx, Is.Null, $"{label}: token ids have no gradient");
            }
            else
            {
                Assert.That(dx!.Shape, Is.EqualTo(new[] { Batch, steps, inputSize }), $"{label}: dL/dx in the input's layout");
                Assert.That(dx.ToArray(), Is.EqualTo(SwapFirstTwo(dxTimeMajor!.ToArray(), steps, Batch, inputSize)), $"{label}: dL/dx");
            }

            foreach (var (p, q) in timeMajor.Parameters.Parameters.Zip(batchFirst.Parameters.Parameters))
            {
                // On an ILGPU device the ids' scatter into weight_ih_l0 adds with atomics, in no fixed order.
                bool atomic = input == Input.Ids && deviceName != "cpu" && p.Name == "weight_ih_l0";
                Assert.That(q.Gradient.ToArray(), atomic ? Is.EqualTo(p.Gradient.ToArray()).Within(1e-6) : Is.EqualTo(p.Gradient.ToArray()), $"{label}: d/d{p.Name}");
            }

            Assert.That(FinalState(batchFirst), Is.EqualTo(FinalState(timeMajor)), $"{label}: the final state, [layers, B, H] in both layouts");
            call++;
        }
    }

    [Test]
    public void ABatchFirstModuleRefusesInputOfAnotherShapeInOneLineAndNamesItsLayout()
    {
        var device = TestDevices.Get("cpu");
        using var lstm = new Lstm(InputSize, 5, batchFirst: true);
        lstm.Build(device);
        using var flat = device.Zeros(6, InputSize);
        using var narrow = device.Zeros(Batch, 2, InputSize + 1);
        using var idsOfRankOne = device.IndexZeros(6);
        using var x = device.Zeros(Batch, 2, InputSize);
        using var state = lstm.CreateState(device, 2);
        string[] messages =
        [
            Assert.Throws<ArgumentException>(() => lstm.Forward(flat))!.Message,
            Assert.Throws<ArgumentException>(() => lstm.Forward(narrow))!.Message,
            Assert.Throws<ArgumentException>(() => lstm.Forward(idsOfRankOne))!.Message,
            Assert.Throws<ArgumentException>(() =>
            {
                lstm.InitialState = state;
                lstm.Forward(x);
            })!.Message,
        ];
        Assert.That(messages[0], Does.StartWith("The LSTM module takes [B, T, In] (batch-first); got [6, 4]."));
        Assert.That(messages[1], Does.StartWith("The LSTM expects 4 input features but got [6, 5]."));
        Assert.That(messages[2], Does.StartWith("The LSTM module takes token indices [B, T] (batch-first); got [6]."));
        Assert.That(messages[3], Does.Contain("state is for batch 2").And.Contain("the input has batch 3"), "B is the first dimension");
        Assert.That(messages, Has.All.Not.Contain('\n'));

        // An id outside the vocabulary is named where the caller put it: element 1 of [B, T] (element 3 time-major).
        using var gru = new Gru(7, 5, batchFirst: true);
        gru.Build(device);
        using var ids = device.IndexFromArray([0, 9, 1, 2, 3, 4], Batch, 2);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => gru.Forward(ids))!.Message, Does.StartWith("Index 9 at position 1 is outside [0, 7)."));
    }

    /// <summary>[first, second, width] → [second, first, width].</summary>
    internal static T[] SwapFirstTwo<T>(T[] data, int first, int second, int width)
    {
        var result = new T[data.Length];
        for (int i = 0; i < first; i++)
        {
            for (int j = 0; j < second; j++)
            {
                Array.Copy(data, ((i * second) + j) * width, result, ((j * first) + i) * width, width);
            }
        }

        return result;
    }

    private static RnnBase Create(string cell, int inputSize, int hidden, bool batchFirst)
        => cell switch
        {
            "lstm" => new Lstm(inputSize, hidden, Layers, dropout: 0.25f, batchFirst),
            "gru" => new Gru(inputSize, hidden, Layers, dropout: 0.25f, batchFirst),
            _ => new Rnn(inputSize, hidden, Layers, dropout: 0.25f, batchFirst: batchFirst),
        };

    // Sets h (and c, from the same values) of every layer as the initial state, carried from then on.
    private static IDisposable StartFrom(RnnBase module, Device device, float[] values)
    {
        module.CarryState = true;
        if (module is Lstm lstm)
        {
            var state = lstm.CreateState(device, Batch);
            Fill(state, values);
            lstm.InitialState = state;
            return state;
        }

        if (module is Gru gru)
        {
            var gruState = gru.CreateState(device, Batch);
            Fill(gruState, values);
            gru.InitialState = gruState;
            return gruState;
        }

        var rnn = (Rnn)module;
        var rnnState = rnn.CreateState(device, Batch);
        Fill(rnnState, values);
        rnn.InitialState = rnnState;
        return rnnState;
    }

    private static void Fill(RnnState state, float[] values)
    {
        int each = values.Length / state.Hidden.Count;
        for (int k = 0; k < state.Hidden.Count; k++)
        {
            state.Hidden[k].CopyFrom(values.AsSpan(k * each, each));
            if (state is LstmState lstm)
            {
                lstm.Cell[k].CopyFrom([.. values.AsSpan(k * each, each).ToArray().Select(v => -v)]);
            }
        }
    }

    private static float[] FinalState(RnnBase module) => module switch
    {
        Lstm lstm => [.. lstm.FinalState!.Hidden.Concat(lstm.FinalState.Cell).SelectMany(t => t.ToArray())],
        Gru gru => [.. gru.FinalState!.Hidden.SelectMany(t => t.ToArray())],
        Rnn rnn => [.. rnn.FinalState!.Hidden.SelectMany(t => t.ToArray())],
        _ => throw new ArgumentException("Not a recurrent module.", nameof(module)),
    };
}
