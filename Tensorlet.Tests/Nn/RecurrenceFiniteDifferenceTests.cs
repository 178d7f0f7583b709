using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// An independent check of each recurrence path, forward and backward: the float32 <see cref="Lstm"/>,
/// <see cref="Gru"/> and <see cref="Rnn"/> (tanh and relu) modules against central finite differences of a plain float64 forward written here from PyTorch's
/// formulas (no analytic backward and none of the library's cell code on the expected side). The equivalence tests
/// (LstmRecurrenceTests, GruRecurrenceTests) only compare paths built on the same cell code with each other.
/// <para>
/// Each case runs a multi-layer model, dropout 0, for two batches: the first from a random initial (h, c) of every
/// layer, the second from the state the module carried over (<c>CarryState</c>). The module cuts the gradient at the
/// initial state (truncated backpropagation through time), so the initial and carried states enter the check through
/// what they change: the step-0 recurrent terms (h₀·W_hhᵀ, and c₀ in the LSTM's forget path), and so every gradient.
/// Sizes are awkward on purpose: 5 steps, batch 3, input 3, and H = 5 (every device runs it step by step) or H = NR,
/// the CPU microkernel's sliver width (the CPU takes its fused whole-sequence recurrence; ILGPU still steps). Each case
/// runs time-major and batch-first (batchFirst: the same data given as [B, T, In], the output and dL/dx read back as
/// [B, T, ·]), against the same float64 expectations, and bidirectional (each layer also run over the steps in reverse
/// with its own <c>_reverse</c> parameters, its output [.., 2H] the forward h then the reverse h, and the layer above
/// taking 2H inputs). A bidirectional module cannot carry its state, so its second batch starts from the initial state
/// again.
/// </para>
/// <para>
/// Tolerance (docs/design.md, Tolerances, float32 models against float64 reference models): the loss within 1e-5
/// relative to Σ|w·output| (a sum of terms of both signs carries their rounding, however small the sum), every gradient and the carried state within 1e-6 + 1e-4·|expected|. The finite differences are the
/// five-point stencil of <see cref="GradientCheck"/> in float64 (error near 1e-12), so the bound measures the float32
/// path alone. Tensors of more than <see cref="AllEntriesUpTo"/> entries are checked on that many entries drawn at
/// random (a fixed seed); smaller ones, the input gradient included, on every entry.
/// </para>
/// </summary>
public sealed class RecurrenceFiniteDifferenceTests
{
    private const int Steps = 5;
    private const int Batch = 3;
    private const int InputSize = 3;
    private const int Layers = 2;
    private const int AllEntriesUpTo = 100;

    // The expected side depends only on the cell, H and the batch, not on the device: computed once, shared.
    private static readonly Dictionary<(Cell, int, bool, int), Expected> ExpectedCache = [];

    public enum Cell
    {
        Lstm,
        Gru,
        RnnTanh,
        RnnRelu,
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from cell in new[] { Cell.Lstm, Cell.Gru, Cell.RnnTanh, Cell.RnnRelu }
        from device in TestDevices.All
        from hidden in new[] { 5, GemmGeometry.Machine.Nr }
        from batchFirst in new[] { false, true }
        from bidirectional in new[] { false, true }

        // Bidirectional at H = NR on the cpu alone, where it takes the fused recurrence; an ILGPU device steps at any H,
        // which H = 5 covers, and the GRU's float32 sums at H = NR sit at the edge of the bound there already.
        where !bidirectional || hidden == 5 || device == "cpu"
        select new TestCaseData(cell, device, hidden, batchFirst, bidirectional).SetArgDisplayNames(
            cell.ToString(), device, $"H={hidden}", batchFirst ? "batch-first" : "time-major", bidirectional ? "bidirectional" : "unidirectional");

    [TestCaseSource(nameof(Cases))]
    [CancelAfter(300_000)]
    public void ForwardAndBackwardMatchFloat64FiniteDifferencesFromAnInitialAndACarriedState(Cell cell, string deviceName, int hidden, bool batchFirst, bool bidirectional)
    {
        var device = TestDevices.Get(deviceName);
        var problem = Problem.ClearOfKinks(cell, hidden, bidirectional, seed: 11 + hidden);
        int outputs = problem.Directions * hidden;
        using Module module = cell switch
        {
            Cell.Lstm => new Lstm(InputSize, hidden, Layers, batchFirst: batchFirst, bidirectional: bidirectional),
            Cell.Gru => new Gru(InputSize, hidden, Layers, batchFirst: batchFirst, bidirectional: bidirectional),
            _ => new Rnn(InputSize, hidden, Layers, cell == Cell.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh, batchFirst: batchFirst, bidirectional: bidirectional),
        };
        module.Build(device, seed: 0);
        module.LoadStateDict(module.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), Narrow(problem.Parameters[Short(p.Name)]))));
        using var initial = CreateState(module, device, problem.InitialHidden, problem.InitialCell);
        SetInitialState(module, initial, carry: !bidirectional);

        for (int b = 0; b < 2; b++)
        {
            var expected = ExpectedFor(problem, b);
            using var x = Sequence(device, Narrow(problem.Inputs[b]), InputSize, batchFirst);
            using var dy = Sequence(device, Narrow(problem.OutputWeights[b]), outputs, batchFirst);
            module.Parameters.ZeroGradients();
            var output = TimeMajor(module.Forward(x).ToArray(), outputs, batchFirst);
            double loss = output.Select((o, i) => o * problem.OutputWeights[b][i]).Sum();
            var dx = module.Backward(dy);
            string label = b == 0 || bidirectional ? $"batch {b + 1} (initial state)" : "batch 2 (carried state)";

            double terms = output.Select((o, i) => Math.Abs(o * problem.OutputWeights[b][i])).Sum();
            Assert.That(loss, Is.EqualTo(expected.Loss).Within(1e-5 * terms), $"{label}: loss Σ w·output");
            foreach (var p in module.Parameters.Parameters)
            {
                AssertClose(p.Gradient.ToArray(), expected.Gradients[Short(p.Name)], expected.Checked[Short(p.Name)], $"{label}: d/d{p.Name}");
            }

            Assert.That(dx, Is.Not.Null);
            Assert.That(dx!.Shape, Is.EqualTo(x.Shape), $"{label}: dL/dx in the input's layout");
            AssertClose(TimeMajor(dx.ToArray(), InputSize, batchFirst), expected.Gradients["x"], expected.Checked["x"], $"{label}: dL/dx");
            var (finalHidden, finalCell) = FinalState(module);
            for (int k = 0; k < problem.StateLayers; k++)
            {
                AssertClose(finalHidden[k], expected.FinalHidden[k], null, $"{label}: h_n[{k}]");
                if (cell == Cell.Lstm)
                {
                    AssertClose(finalCell![k], expected.FinalCell![k], null, $"{label}: c_n[{k}]");
                }
            }
        }
    }

    private static Expected ExpectedFor(Problem problem, int batchIndex)
    {
        lock (ExpectedCache)
        {
            var key = (problem.Cell, problem.Hidden, problem.Directions == 2, batchIndex);
            if (!ExpectedCache.TryGetValue(key, out var expected))
            {
                // Batch 2 starts from batch 1's final state, a constant (no gradient flows into it); a bidirectional
                // module's from the initial state.
                var start = batchIndex == 0 || problem.Directions == 2
                    ? (problem.InitialHidden, problem.InitialCell)
                    : (ExpectedFor(problem, 0).FinalHidden, ExpectedFor(problem, 0).FinalCell);
                expected = Expected.Compute(problem, batchIndex, start.Item1, start.Item2);
                ExpectedCache[key] = expected;
            }

            return expected;
        }
    }

    private static IDisposable CreateState(Module module, Device device, double[][] hidden, double[][]? cell)
    {
        if (module is Lstm lstm)
        {
            var state = lstm.CreateState(device, Batch);
            for (int k = 0; k < hidden.Length; k++)
            {
                state.Hidden[k].CopyFrom(Narrow(hidden[k]));
                state.Cell[k].CopyFrom(Narrow(cell![k]));
            }

            return state;
        }

        RnnState hiddenState = module is Gru gru ? gru.CreateState(device, Batch) : ((Rnn)module).CreateState(device, Batch);
        for (int k = 0; k < hidden.Length; k++)
        {
            hiddenState.Hidden[k].CopyFrom(Narrow(hidden[k]));
        }

        return hiddenState;
    }

    private static void SetInitialState(Module module, IDisposable state, bool carry)
    {
        if (module is Lstm lstm)
        {
            lstm.InitialState = (LstmState)state;
            lstm.CarryState = carry;
        }
        else if (module is Gru gru)
        {
            gru.InitialState = (GruState)state;
            gru.CarryState = carry;
        }
        else
        {
            var rnn = (Rnn)module;
            rnn.InitialState = (RnnHiddenState)state;
            rnn.CarryState = carry;
        }
    }

    private static (float[][] Hidden, float[][]? Cell) FinalState(Module module) => module is Lstm lstm
        ? ([.. lstm.FinalState!.Hidden.Select(t => t.ToArray())], [.. lstm.FinalState.Cell.Select(t => t.ToArray())])
        : ([.. (module is Gru gru ? (RnnState)gru.FinalState! : ((Rnn)module).FinalState!).Hidden.Select(t => t.ToArray())], null);

    // Time-major values [T, B, width] as the module takes them: [T, B, width], or [B, T, width] batch-first.
    private static Tensor Sequence(Device device, float[] timeMajor, int width, bool batchFirst) => batchFirst
        ? device.FromArray(BatchFirstTests.SwapFirstTwo(timeMajor, Steps, Batch, width), Batch, Steps, width)
        : device.FromArray(timeMajor, Steps, Batch, width);

    // A module's result in its layout, as time-major values [T, B, width].
    private static float[] TimeMajor(float[] values, int width, bool batchFirst) => batchFirst ? BatchFirstTests.SwapFirstTwo(values, Batch, Steps, width) : values;

    // "weight_ih_l0" (or "weight_ih_l0_reverse") from a state_dict name with or without a module prefix.
    private static string Short(string name) => name[(name.LastIndexOf('.') + 1)..];

    private static float[] Narrow(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static void AssertClose(float[] actual, double[] expected, int[]? entries, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        foreach (int i in entries ?? Enumerable.Range(0, actual.Length))
        {
            double bound = 1e-6 + (1e-4 * Math.Abs(expected[i]));
            if (Math.Abs(actual[i] - expected[i]) > bound)
            {
                Assert.Fail($"{name}[{i}]: {actual[i]:G9}, expected {expected[i]:G12} (bound {bound:G3}).");
            }
        }
    }

    /// <summary>The model's parameters, two batches of inputs and loss weights, and the initial state, all float32-exact.</summary>
    private sealed record Problem(
        Cell Cell,
        int Hidden,
        int Directions,
        Dictionary<string, double[]> Parameters,
        double[][] Inputs,
        double[][] OutputWeights,
        double[][] InitialHidden,
        double[][]? InitialCell)
    {
        public int Gates => GatesOf(Cell);

        public static int GatesOf(Cell cell) => cell switch
        {
            Cell.Lstm => 4,
            Cell.Gru => 3,
            _ => 1,
        };

        /// <summary>The state's entries: layer 0 forward, (layer 0 reverse,) layer 1 forward, ...</summary>
        public int StateLayers => Layers * Directions;

        /// <summary>
        /// <see cref="Random"/> from <paramref name="seed"/>, or for the relu cell from the first seed after it whose two
        /// batches (the second from the first's final state, as the module carries it) keep every preactivation at
        /// least <see cref="KinkMargin"/> from 0: nearer, float32 rounding, which differs with the register width,
        /// or the finite-difference steps can cross the kink, and the float32 and float64 sides then differentiate
        /// different branches.
        /// </summary>
        public static Problem ClearOfKinks(Cell cell, int hidden, bool bidirectional, int seed)
        {
            for (int attempt = seed; ; attempt++)
            {
                var problem = Random(cell, hidden, bidirectional, attempt);
                if (cell != Cell.RnnRelu || problem.KinkMarginOfBothBatches() >= KinkMargin)
                {
                    return problem;
                }
            }
        }

        private const double KinkMargin = 1e-3;

        private double KinkMarginOfBothBatches()
        {
            var values = Parameters.ToDictionary(p => p.Key, p => p.Value);
            values["x"] = Inputs[0];
            var first = Expected.Margin(this, values, OutputWeights[0], InitialHidden, InitialCell);
            values["x"] = Inputs[1];
            var secondStart = Directions == 2 ? InitialHidden : first.FinalHidden;
            return Math.Min(first.Margin, Expected.Margin(this, values, OutputWeights[1], secondStart, null).Margin);
        }

        public static Problem Random(Cell cell, int hidden, bool bidirectional, int seed)
        {
            var random = new Random(seed);
            double Next(double scale) => (float)(((random.NextDouble() * 2) - 1) * scale);
            double[] Values(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => Next(scale))];
            int gates = GatesOf(cell);
            int directions = bidirectional ? 2 : 1;
            var parameters = new Dictionary<string, double[]>();

            // An Elman cell has no gate to damp its recurrence: its W_hh is scaled by √(5/H), so that h·W_hhᵀ spreads at
            // any H as at H = 5 and the float32 path's sums stay where it resolves them to the bound.
            double recurrentScale = gates == 1 ? 0.8 * Math.Sqrt(Math.Min(1.0, 5.0 / hidden)) : 0.8;
            for (int k = 0; k < Layers; k++)
            {
                int inputs = k == 0 ? InputSize : directions * hidden;

                // A layer above a bidirectional one sums 2H inputs: its W_ih is scaled by 1/√2, so its preactivations
                // spread as a unidirectional layer's and its gradients stay where float32 resolves them to the bound.
                double inputScale = 0.8 * Math.Sqrt(Math.Min(1.0, (double)hidden / inputs));
                for (int d = 0; d < directions; d++)
                {
                    string suffix = d == 1 ? $"l{k}_reverse" : $"l{k}";
                    parameters[$"weight_ih_{suffix}"] = Values(gates * hidden * inputs, inputScale);
                    parameters[$"weight_hh_{suffix}"] = Values(gates * hidden * hidden, recurrentScale);
                    parameters[$"bias_ih_{suffix}"] = Values(gates * hidden, 0.5);
                    parameters[$"bias_hh_{suffix}"] = Values(gates * hidden, 0.5);
                }
            }

            int outputs = directions * hidden;
            return new Problem(
                cell,
                hidden,
                directions,
                parameters,
                [Values(Steps * Batch * InputSize, 1), Values(Steps * Batch * InputSize, 1)],
                [Values(Steps * Batch * outputs, 1), Values(Steps * Batch * outputs, 1)],
                [.. Enumerable.Range(0, Layers * directions).Select(_ => Values(Batch * hidden, 0.8))],
                cell == Cell.Lstm ? [.. Enumerable.Range(0, Layers * directions).Select(_ => Values(Batch * hidden, 0.8))] : null);
        }
    }

    /// <summary>The float64 loss, final state and finite-difference gradients of one batch.</summary>
    private sealed record Expected(double Loss, double[][] FinalHidden, double[][]? FinalCell, Dictionary<string, double[]> Gradients, Dictionary<string, int[]> Checked)
    {
        public static Expected Compute(Problem problem, int batchIndex, double[][] h0, double[][]? c0)
        {
            var values = problem.Parameters.ToDictionary(p => p.Key, p => (double[])p.Value.Clone());
            values["x"] = (double[])problem.Inputs[batchIndex].Clone();
            double Loss() => Forward(problem, values, problem.OutputWeights[batchIndex], h0, c0).Loss;

            var (loss, finalHidden, finalCell, _) = Forward(problem, values, problem.OutputWeights[batchIndex], h0, c0);
            var gradients = new Dictionary<string, double[]>();
            var checkedEntries = new Dictionary<string, int[]>();
            var random = new Random(batchIndex + 1);
            foreach (var (name, tensor) in values)
            {
                int[] entries = tensor.Length <= AllEntriesUpTo
                    ? [.. Enumerable.Range(0, tensor.Length)]
                    : [.. Enumerable.Range(0, tensor.Length).OrderBy(_ => random.Next()).Take(AllEntriesUpTo).Order()];
                var gradient = new double[tensor.Length];
                foreach (int i in entries)
                {
                    gradient[i] = GradientCheck.CentralDifference(tensor, i, Loss);
                }

                gradients[name] = gradient;
                checkedEntries[name] = entries;
            }

            return new Expected(loss, finalHidden, finalCell, gradients, checkedEntries);
        }

        // Σ w·(last layer's output at every step), from (h0, c0), with PyTorch's nn.LSTM / nn.GRU / nn.RNN formulas in float64:
        // each direction d of layer k runs from state entry k·D + d, the reverse one over the steps from the last, and
        // writes its h to columns [d·H, (d + 1)·H) of the layer's output.
        // KinkMargin: the smallest |preactivation| of a relu unit (+∞ for the other cells).
        private static (double Loss, double[][] FinalHidden, double[][]? FinalCell, double KinkMargin) Forward(
            Problem problem, Dictionary<string, double[]> values, double[] weights, double[][] h0, double[][]? c0)
        {
            double kinkMargin = double.PositiveInfinity;
            int hidden = problem.Hidden;
            int gates = problem.Gates;
            int directions = problem.Directions;
            int outputs = directions * hidden;
            var input = values["x"];
            int width = InputSize;
            var finalHidden = new double[problem.StateLayers][];
            var finalCell = problem.Cell == Cell.Lstm ? new double[problem.StateLayers][] : null;
            for (int k = 0; k < Layers; k++)
            {
                var output = new double[Steps * Batch * outputs];
                for (int d = 0; d < directions; d++)
                {
                    int entry = (k * directions) + d;
                    string suffix = d == 1 ? $"l{k}_reverse" : $"l{k}";
                    var wih = values[$"weight_ih_{suffix}"];
                    var whh = values[$"weight_hh_{suffix}"];
                    var bih = values[$"bias_ih_{suffix}"];
                    var bhh = values[$"bias_hh_{suffix}"];
                    var h = (double[])h0[entry].Clone();
                    var c = c0 is null ? null : (double[])c0[entry].Clone();
                    var xPart = new double[gates * hidden];
                    var hPart = new double[gates * hidden];
                    var next = new double[hidden];
                    for (int i = 0; i < Steps; i++)
                    {
                        int s = d == 0 ? i : Steps - 1 - i;
                        for (int n = 0; n < Batch; n++)
                        {
                            int row = (s * Batch) + n;
                            for (int g = 0; g < gates * hidden; g++)
                            {
                                double xs = bih[g], hs = bhh[g];
                                for (int j = 0; j < width; j++)
                                {
                                    xs += wih[(g * width) + j] * input[(row * width) + j];
                                }

                                for (int j = 0; j < hidden; j++)
                                {
                                    hs += whh[(g * hidden) + j] * h[(n * hidden) + j];
                                }

                                (xPart[g], hPart[g]) = (xs, hs);
                            }

                            for (int j = 0; j < hidden; j++)
                            {
                                int at = (n * hidden) + j;
                                if (problem.Cell == Cell.Lstm)
                                {
                                    // Gates i, f, g, o.
                                    double ig = Sigmoid(xPart[j] + hPart[j]);
                                    double f = Sigmoid(xPart[hidden + j] + hPart[hidden + j]);
                                    double g = Math.Tanh(xPart[(2 * hidden) + j] + hPart[(2 * hidden) + j]);
                                    double o = Sigmoid(xPart[(3 * hidden) + j] + hPart[(3 * hidden) + j]);
                                    c![at] = (f * c[at]) + (ig * g);
                                    next[j] = o * Math.Tanh(c[at]);
                                }
                                else if (problem.Cell == Cell.RnnTanh)
                                {
                                    next[j] = Math.Tanh(xPart[j] + hPart[j]);
                                }
                                else if (problem.Cell == Cell.RnnRelu)
                                {
                                    next[j] = Math.Max(0, xPart[j] + hPart[j]);
                                    kinkMargin = Math.Min(kinkMargin, Math.Abs(xPart[j] + hPart[j]));
                                }
                                else
                                {
                                    // Gates r, z, n; n = tanh(x_n + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
                                    double r = Sigmoid(xPart[j] + hPart[j]);
                                    double z = Sigmoid(xPart[hidden + j] + hPart[hidden + j]);
                                    double candidate = Math.Tanh(xPart[(2 * hidden) + j] + (r * hPart[(2 * hidden) + j]));
                                    next[j] = ((1 - z) * candidate) + (z * h[at]);
                                }
                            }

                            // h advances after every unit of this sequence has read the old h.
                            Array.Copy(next, 0, h, n * hidden, hidden);
                            Array.Copy(next, 0, output, (row * outputs) + (d * hidden), hidden);
                        }
                    }

                    finalHidden[entry] = h;
                    if (finalCell is not null)
                    {
                        finalCell[entry] = c!;
                    }
                }

                input = output;
                width = outputs;
            }

            double loss = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                loss += weights[i] * input[i];
            }

            return (loss, finalHidden, finalCell, kinkMargin);
        }

        /// <summary>The float64 forward's final h and smallest |relu preactivation|, without the finite differences.</summary>
        public static (double[][] FinalHidden, double Margin) Margin(Problem problem, Dictionary<string, double[]> values, double[] weights, double[][] h0, double[][]? c0)
        {
            var (_, finalHidden, _, margin) = Forward(problem, values, weights, h0, c0);
            return (finalHidden, margin);
        }

        private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
    }
}
