using NUnit.Framework;
using Tensorlet.Backends;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The cpu's wavefront schedule (two stacked layers at once, <see cref="CpuRecurrenceWavefront"/>) gives exactly the
/// floats of the split schedule (one layer after the other), for the LSTM, the GRU and the RNN (tanh and relu), whose correctness the float64 references, finite differences and
/// PyTorch fixtures establish: the output, the final state, every parameter gradient and the input gradient, over
/// awkward sizes (a last chunk shorter than the others, one hidden sliver, batch 1), 1 to 4 layers, dropout, an initial
/// state, a carried state and more threads than layers need.
/// </summary>
public sealed class RecurrentWavefrontTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        int nr = GemmGeometry.Machine.Nr;
        foreach (var cell in new[] { "lstm", "gru", "rnn-tanh", "rnn-relu" })
        {
            //                       layers, H, steps, batch, dropout, dense input, state, threads
            yield return Case(cell, 2, nr, 5, 3, 0f, false, State.None, 2);
            yield return Case(cell, 2, 2 * nr, 7, 100, 0f, false, State.Initial, 2);
            yield return Case(cell, 2, nr, 9, 1, 0.3f, true, State.None, 2);
            yield return Case(cell, 3, nr, 9, 5, 0.5f, true, State.Carried, 2);
            yield return Case(cell, 3, 3 * nr, 4, 7, 0.2f, false, State.Initial, 3);
            yield return Case(cell, 4, nr, 6, 2, 0.4f, false, State.Carried, 2);
            yield return Case(cell, 1, 2 * nr, 4, 3, 0f, true, State.Initial, 2);

            // H that ends each gate in part of a sliver.
            yield return Case(cell, 2, nr + 5, 6, 4, 0.3f, false, State.Initial, 2);
            yield return Case(cell, 2, 100, 5, 100, 0f, true, State.Carried, 2);
            yield return Case(cell, 3, Math.Max(1, nr / 2) + 1, 7, 3, 0.2f, false, State.None, 3);
        }
    }

    public enum State
    {
        None,
        Initial,
        Carried,
    }

    [TestCaseSource(nameof(Cases))]
    public void WavefrontEqualsTheSplitScheduleExactly(string cell, int layers, int hidden, int steps, int batch, float dropout, bool dense, State state, int threads)
    {
        if (CpuThreadTeam.MaxThreads < 2)
        {
            Assert.Ignore($"The wavefront needs two threads; this machine has {Environment.ProcessorCount} core(s).");
        }

        var split = Run(CpuRecurrenceSchedule.Split, cell, layers, hidden, steps, batch, dropout, dense, state, threads);
        var wave = Run(CpuRecurrenceSchedule.Wavefront, cell, layers, hidden, steps, batch, dropout, dense, state, threads);
        Assert.That(split.WavefrontCalls, Is.Zero, "the split schedule runs no wavefront");
        Assert.That(wave.WavefrontCalls, Is.EqualTo(layers >= 2 ? 2 * 2 * (layers / 2) : 0), "a wavefront per pair of layers, forward and backward, in both batches");
        Assert.Multiple(() =>
        {
            foreach (var (name, values) in split.Results)
            {
                Assert.That(wave.Results[name], Is.EqualTo(values), name);
            }
        });
    }

    [Test]
    public void TheKernelEqualsTwoLayersRunOneAfterTheOtherForAnyChunkAndThreadCount()
    {
        int nr = GemmGeometry.Machine.Nr, steps = 7, batch = 3;
        foreach (int hidden in new[] { 2 * nr, nr + 3 })
        {
            TwoLayersEqualForAnyChunkAndThreadCount(hidden, steps, batch);
        }
    }

    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Relu)]
    public void TheRnnKernelEqualsTwoLayersRunOneAfterTheOtherForAnyChunkAndThreadCount(Activation activation)
    {
        int nr = GemmGeometry.Machine.Nr, steps = 7, batch = 3;
        foreach (int hidden in new[] { 2 * nr, nr + 3 })
        {
            var rng = new Random(7);
            float[] Uniform(int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale)];
            float[] pre = Uniform(steps * batch * hidden, 1), weightHh0 = Uniform(hidden * hidden, 0.3f), weightHh1 = Uniform(hidden * hidden, 0.3f);
            float[] weightIh1 = Uniform(hidden * hidden, 0.3f), bias = Uniform(hidden, 0.5f), h0 = Uniform(2 * batch * hidden, 1), dTop = Uniform(steps * batch * hidden, 1);
            var layers = new RnnTwoLayers(pre, weightHh0, weightIh1, bias, weightHh1, h0, dTop, steps, batch, hidden, activation);
            var expected = layers.Run(chunkSteps: -1, threads: 2);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                foreach (int chunk in new[] { 1, 2, 3, steps, 0 })
                {
                    var actual = layers.Run(chunk, threads);
                    for (int i = 0; i < expected.Length; i++)
                    {
                        Assert.That(actual[i], Is.EqualTo(expected[i]), $"H = {hidden}: output {i}, chunks of {chunk} steps, {threads} threads");
                    }
                }
            }
        }
    }

    private static void TwoLayersEqualForAnyChunkAndThreadCount(int hidden, int steps, int batch)
    {
        var rng = new Random(7);
        float[] Uniform(int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale)];
        float[] pre = Uniform(steps * batch * 4 * hidden, 1), weightHh0 = Uniform(4 * hidden * hidden, 0.3f), weightHh1 = Uniform(4 * hidden * hidden, 0.3f);
        float[] weightIh1 = Uniform(4 * hidden * hidden, 0.3f), bias = Uniform(4 * hidden, 0.5f), h0 = Uniform(2 * batch * hidden, 1), c0 = Uniform(2 * batch * hidden, 1);
        float[] dTop = Uniform(steps * batch * hidden, 1);
        var expected = TwoLayers(pre, weightHh0, weightIh1, bias, weightHh1, h0, c0, dTop, steps, batch, hidden, chunkSteps: -1, threads: 2);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (int chunk in new[] { 1, 2, 3, steps, 0 })
            {
                var actual = TwoLayers(pre, weightHh0, weightIh1, bias, weightHh1, h0, c0, dTop, steps, batch, hidden, chunk, threads);
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.That(actual[i], Is.EqualTo(expected[i]), $"H = {hidden}: output {i}, chunks of {chunk} steps, {threads} threads");
                }
            }
        }
    }

    private static TestCaseData Case(string cell, int layers, int hidden, int steps, int batch, float dropout, bool dense, State state, int threads) =>
        new TestCaseData(cell, layers, hidden, steps, batch, dropout, dense, state, threads)
            .SetArgDisplayNames(cell, $"L={layers}", $"H={hidden}", $"T={steps}", $"B={batch}", $"p={dropout}", dense ? "dense" : "ids", state.ToString(), $"threads={threads}");

    /// <summary>
    /// Two batches through the cell's module, forward and backward, on a cpu device with <paramref name="schedule"/>; every result of
    /// the second batch (after the first, so a carried state is carried).
    /// </summary>
    private static (Dictionary<string, float[]> Results, int WavefrontCalls) Run(
        CpuRecurrenceSchedule schedule, string cell, int layers, int hidden, int steps, int batch, float dropout, bool dense, State state, int threads)
    {
        const int input = 11;
        using var device = Device.CreateCpu(threads, CpuKernelPlan.Machine with { Recurrence = schedule });
        var counter = new WavefrontCounter(device);
        Lstm? lstm = cell == "lstm" ? new Lstm(input, hidden, layers, dropout) { CarryState = state == State.Carried } : null;
        Gru? gru = cell == "gru" ? new Gru(input, hidden, layers, dropout) { CarryState = state == State.Carried } : null;
        var nonlinearity = cell == "rnn-relu" ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;
        Rnn? rnn = cell.StartsWith("rnn", StringComparison.Ordinal) ? new Rnn(input, hidden, layers, nonlinearity, dropout) { CarryState = state == State.Carried } : null;
        using Module module = (Module?)lstm ?? (Module?)gru ?? rnn!;
        module.Build(device, seed: 3);
        module.Train();
        var rng = new Random(5);
        using var lstmState = lstm?.CreateState(device, batch);
        using var gruState = gru?.CreateState(device, batch);
        using var rnnState = rnn?.CreateState(device, batch);
        if (state == State.Initial)
        {
            for (int k = 0; k < layers; k++)
            {
                (lstmState?.Hidden[k] ?? gruState?.Hidden[k] ?? rnnState!.Hidden[k]).CopyFrom([.. Enumerable.Range(0, batch * hidden).Select(_ => rng.NextSingle() - 0.5f)]);
                lstmState?.Cell[k].CopyFrom([.. Enumerable.Range(0, batch * hidden).Select(_ => rng.NextSingle() - 0.5f)]);
            }

            if (lstm is not null)
            {
                lstm.InitialState = lstmState;
            }
            else if (gru is not null)
            {
                gru.InitialState = gruState;
            }
            else
            {
                rnn!.InitialState = rnnState;
            }
        }

        var results = new Dictionary<string, float[]>();
        using (device.InterceptKernels(inner => counter.Wrap(inner)))
        {
            for (int round = 0; round < 2; round++)
            {
                using var x = dense
                    ? device.FromArray([.. Enumerable.Range(0, steps * batch * input).Select(_ => rng.NextSingle() - 0.5f)], steps, batch, input)
                    : null;
                using var ids = dense ? null : device.IndexFromArray([.. Enumerable.Range(0, steps * batch).Select(_ => rng.Next(input))], steps, batch);
                using var dy = device.FromArray([.. Enumerable.Range(0, steps * batch * hidden).Select(_ => rng.NextSingle() - 0.5f)], steps, batch, hidden);
                module.Parameters.ZeroGradients();
                var y = x is not null ? module.Forward(x) : module.Forward(ids!);
                results["output"] = y.ToArray();
                var dx = module.Backward(dy);
                if (dx is not null)
                {
                    results["input gradient"] = dx.ToArray();
                }
            }
        }

        for (int k = 0; k < layers; k++)
        {
            results[$"final h{k}"] = (lstm?.FinalState!.Hidden[k] ?? gru?.FinalState!.Hidden[k] ?? rnn!.FinalState!.Hidden[k]).ToArray();
            if (lstm is not null)
            {
                results[$"final c{k}"] = lstm.FinalState!.Cell[k].ToArray();
            }
        }

        foreach (var p in module.Parameters.Parameters)
        {
            results[p.Name] = p.Gradient.ToArray();
        }

        return (results, counter.Calls);
    }

    /// <summary>
    /// Two layers forward then backward through <see cref="CpuLstmWavefront"/> in chunks of <paramref name="chunkSteps"/>
    /// (or, for −1, through <see cref="CpuLstmRecurrence"/> per layer with the whole-sequence GEMMs between them);
    /// every buffer written: h and c of both layers, then d(pre) of both, the lower layer's dH, both dc and both dBias.
    /// </summary>
    private static unsafe float[][] TwoLayers(
        float[] pre, float[] weightHh0, float[] weightIh1, float[] bias, float[] weightHh1, float[] h0, float[] c0, float[] dTop, int steps, int batch, int hidden, int chunkSteps, int threads)
    {
        int rows = steps * batch, wide = 4 * hidden;
        var width = CpuKernelPlan.Machine.Width;
        using var hh0T = CpuGemm.PackB(true, hidden, wide, weightHh0, groups: 4);
        using var hh1T = CpuGemm.PackB(true, hidden, wide, weightHh1, groups: 4);
        using var ih1T = CpuGemm.PackB(true, hidden, wide, weightIh1);
        using var hh0 = CpuGemm.PackB(false, wide, hidden, weightHh0);
        using var hh1 = CpuGemm.PackB(false, wide, hidden, weightHh1);
        using var ih1 = CpuGemm.PackB(false, wide, hidden, weightIh1);
        float[] gates0 = (float[])pre.Clone(), gates1 = new float[rows * wide], cells0 = new float[rows * hidden], cells1 = new float[rows * hidden];
        float[] hidden0 = new float[rows * hidden], hidden1 = new float[rows * hidden];
        float[] dH1 = (float[])dTop.Clone(), dH0 = new float[rows * hidden], dPre1 = new float[rows * wide], dPre0 = new float[rows * wide];
        float[] dc1 = new float[batch * hidden], dc0 = new float[batch * hidden], dBias1 = new float[wide], dBias0 = new float[wide];
        fixed (float* g0 = gates0, g1 = gates1, c0p = cells0, c1p = cells1, hd0 = hidden0, hd1 = hidden1, hInit = h0, cInit = c0, b = bias)
        fixed (float* dh1 = dH1, dh0 = dH0, dp1 = dPre1, dp0 = dPre0, dcu = dc1, dcl = dc0, db1 = dBias1, db0 = dBias0)
        {
            float* hInit1 = hInit + (batch * hidden), cInit1 = cInit + (batch * hidden);
            if (chunkSteps < 0)
            {
                CpuLstmRecurrence.Forward(g0, c0p, hd0, hInit, cInit, true, hh0T, steps, batch, hidden, threads, width);
                CpuGemm.Gemm(false, true, rows, wide, hidden, 1f, hidden0, weightIh1, 0f, gates1, threads);
                CpuBias.AddBias(gates1, bias, threads, CpuKernelPlan.Machine.Width);
                CpuLstmRecurrence.Forward(g1, c1p, hd1, hInit1, cInit1, true, hh1T, steps, batch, hidden, threads, width);
                CpuLstmRecurrence.Backward(g1, c1p, cInit1, dh1, dcu, dp1, db1, hh1, steps, batch, hidden, threads, width);
                CpuGemm.Gemm(false, false, rows, hidden, wide, 1f, dPre1, weightIh1, 0f, dH0, threads);
                CpuLstmRecurrence.Backward(g0, c0p, cInit, dh0, dcl, dp0, db0, hh0, steps, batch, hidden, threads, width);
            }
            else
            {
                CpuLstmWavefront.Forward(
                    new LstmLayerPointers(g0, c0p, hd0, hInit, cInit, true, hh0T), hd0, 0f, 0, 0, ih1T, b,
                    new LstmLayerPointers(g1, c1p, hd1, hInit1, cInit1, true, hh1T), steps, batch, hidden, threads, width, chunkSteps);
                CpuLstmWavefront.Backward(
                    new LstmLayerGradientPointers(g1, c1p, cInit1, dh1, dcu, dp1, db1, hh1), ih1, 0f, 0, 0,
                    new LstmLayerGradientPointers(g0, c0p, cInit, dh0, dcl, dp0, db0, hh0), steps, batch, hidden, threads, width, chunkSteps);
            }
        }

        return [hidden0, cells0, hidden1, cells1, dPre1, dH0, dPre0, dc0, dc1, dBias1, dBias0];
    }

    /// <summary>
    /// Two RNN layers forward then backward through <see cref="CpuRnnWavefront"/> in chunks of chunkSteps (or, for −1,
    /// through <see cref="CpuRnnRecurrence"/> per layer with the whole-sequence GEMMs between them); every buffer written:
    /// h and pre of both layers, then d(pre) of both, the lower layer's dH and both dBias.
    /// </summary>
    private sealed unsafe class RnnTwoLayers(
        float[] pre, float[] weightHh0, float[] weightIh1, float[] bias, float[] weightHh1, float[] h0, float[] dTop, int steps, int batch, int hidden, Activation activation)
    {
        public float[][] Run(int chunkSteps, int threads)
        {
            int rows = steps * batch;
            var width = CpuKernelPlan.Machine.Width;
            using var hh0T = CpuGemm.PackB(true, hidden, hidden, weightHh0);
            using var hh1T = CpuGemm.PackB(true, hidden, hidden, weightHh1);
            using var ih1T = CpuGemm.PackB(true, hidden, hidden, weightIh1);
            using var hh0 = CpuGemm.PackB(false, hidden, hidden, weightHh0);
            using var hh1 = CpuGemm.PackB(false, hidden, hidden, weightHh1);
            using var ih1 = CpuGemm.PackB(false, hidden, hidden, weightIh1);
            float[] pre0 = (float[])pre.Clone(), pre1 = new float[rows * hidden], hidden0 = new float[rows * hidden], hidden1 = new float[rows * hidden];
            float[] dH1 = (float[])dTop.Clone(), dH0 = new float[rows * hidden], dBias1 = new float[hidden], dBias0 = new float[hidden];
            float[] forward0 = [], forward1 = [];
            fixed (float* p0 = pre0, p1 = pre1, hd0 = hidden0, hd1 = hidden1, hInit = h0, b = bias, dh1 = dH1, dh0 = dH0, db1 = dBias1, db0 = dBias0)
            {
                float* hInit1 = hInit + (batch * hidden);
                if (chunkSteps < 0)
                {
                    CpuRnnRecurrence.Forward(p0, hd0, hInit, true, hh0T, steps, batch, hidden, activation, threads, width);
                    CpuGemm.Gemm(false, true, rows, hidden, hidden, 1f, hidden0, weightIh1, 0f, pre1, threads);
                    CpuBias.AddBias(pre1, bias, threads, width);
                    CpuRnnRecurrence.Forward(p1, hd1, hInit1, true, hh1T, steps, batch, hidden, activation, threads, width);
                    (forward0, forward1) = ((float[])pre0.Clone(), (float[])pre1.Clone());
                    CpuRnnRecurrence.Backward(hd1, dh1, p1, db1, hh1, steps, batch, hidden, activation, threads, width);
                    CpuGemm.Gemm(false, false, rows, hidden, hidden, 1f, pre1, weightIh1, 0f, dH0, threads);
                    CpuRnnRecurrence.Backward(hd0, dh0, p0, db0, hh0, steps, batch, hidden, activation, threads, width);
                }
                else
                {
                    CpuRnnWavefront.Forward(
                        new RnnLayerPointers(p0, hd0, hInit, true, hh0T), hd0, 0f, 0, 0, ih1T, b,
                        new RnnLayerPointers(p1, hd1, hInit1, true, hh1T), steps, batch, hidden, activation, threads, width, chunkSteps);
                    (forward0, forward1) = ((float[])pre0.Clone(), (float[])pre1.Clone());
                    CpuRnnWavefront.Backward(
                        new RnnLayerGradientPointers(hd1, dh1, p1, db1, hh1), ih1, 0f, 0, 0,
                        new RnnLayerGradientPointers(hd0, dh0, p0, db0, hh0), steps, batch, hidden, activation, threads, width, chunkSteps);
                }
            }

            return [hidden0, forward0, hidden1, forward1, pre1, dH0, pre0, dH1, dBias1, dBias0];
        }
    }

    /// <summary>Counts the wavefront kernels a device runs.</summary>
    private sealed class WavefrontCounter(Device device)
    {
        public Device Device { get; } = device;

        public int Calls { get; private set; }

        public IKernelBackend Wrap(IKernelBackend inner) => new Decorator(inner, this);

        private sealed class Decorator(IKernelBackend inner, WavefrontCounter counter) : KernelBackendDecorator<int>(inner)
        {
            protected override int Begin() => 0;

            protected override void End(string kernel, int mark)
            {
                if (kernel.Contains("Wavefront", StringComparison.Ordinal))
                {
                    counter.Calls++;
                }
            }
        }
    }
}
