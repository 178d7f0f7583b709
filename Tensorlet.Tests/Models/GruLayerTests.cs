using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The GRU layer: the float64 reference model's gradients against central finite differences, then the float32 layer
/// on every device against that reference (outputs, final state, every parameter gradient and the input gradient), with
/// dropout between layers and a nonzero initial state, and the state carried across batches.
/// </summary>
public sealed class GruLayerTests
{
    private const int Steps = 4;
    private const int Batch = 3;
    private const int Layers = 2;

    // H = 5 runs step by step on every device; H = NR (the cpu microkernel's sliver width) takes the cpu's fused recurrence.
    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from hidden in new[] { 5, GemmGeometry.Machine.Nr }
        select new TestCaseData(device, hidden).SetArgDisplayNames(device, $"H={hidden}");

    [Test]
    public void ReferenceGradientsMatchFiniteDifferences()
    {
        var reference = RandomReference(inputSize: 3, hidden: 4, seed: 1, dropout: 0.5f, initialState: true);
        var analytic = new Dictionary<string, double[]>();
        reference.Loss(Steps, Batch, analytic);

        double worst = GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => reference.Loss(Steps, Batch));

        Assert.That(worst, Is.LessThan(1e-6));
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void DenseInputMatchesTheReference(string deviceName, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        const int inputSize = 6;
        var reference = RandomReference(inputSize, hidden, seed: 2, dropout: 0.5f, initialState: true);
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", inputSize, hidden, Layers, dropout: 0.5f);
        parameters.Build(device, seed: 0);
        Load(parameters, reference);
        using var x = device.FromArray(Narrow(reference.Parameters["x"]), Steps * Batch, inputSize);
        using var initial = gru.CreateState(device, Batch);
        for (int k = 0; k < Layers; k++)
        {
            initial.Hidden[k].CopyFrom(Narrow(reference.InitialHidden![k]));
        }

        using var final = gru.CreateState(device, Batch);
        var output = gru.Forward(x, Steps, Batch, training: true, reference.DropoutSeed, reference.DropoutStep, initial, final);
        using var dOutput = device.FromArray(Narrow(reference.OutputWeights), Steps * Batch, hidden);
        parameters.ZeroGradients();
        var dx = gru.Backward(dOutput);

        var expectedOutput = new double[Steps * Batch * hidden];
        var expectedFinal = new double[Layers][];
        var expected = new Dictionary<string, double[]>();
        reference.Loss(Steps, Batch, expected, expectedOutput, expectedFinal);
        AssertClose(output.ToArray(), expectedOutput, "output");
        for (int k = 0; k < Layers; k++)
        {
            AssertClose(final.Hidden[k].ToArray(), expectedFinal[k], $"h_n[{k}]");
        }

        foreach (var p in parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), expected[p.Name], p.Name);
        }

        Assert.That(dx, Is.Not.Null);
        AssertClose(dx!.ToArray(), expected["x"], "dL/dx");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void OneHotInputMatchesTheReferenceOnTheOneHotRows(string deviceName, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        const int vocabulary = 7;
        var reference = RandomReference(vocabulary, hidden, seed: 3, dropout: 0f, initialState: false);
        var random = new Random(4);
        int[] tokens = [.. Enumerable.Range(0, Steps * Batch).Select(_ => random.Next(vocabulary))];
        var oneHot = new double[Steps * Batch * vocabulary];
        for (int row = 0; row < tokens.Length; row++)
        {
            oneHot[(row * vocabulary) + tokens[row]] = 1;
        }

        reference.Parameters["x"] = oneHot;
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", vocabulary, hidden, Layers, dropout: 0f);
        parameters.Build(device, seed: 0);
        Load(parameters, reference);
        using var indices = device.IndexFromArray(tokens, tokens.Length);

        var output = gru.Forward(indices, Steps, Batch, training: true);
        using var dOutput = device.FromArray(Narrow(reference.OutputWeights), Steps * Batch, hidden);
        parameters.ZeroGradients();
        var dx = gru.Backward(dOutput);

        var expectedOutput = new double[Steps * Batch * hidden];
        var expected = new Dictionary<string, double[]>();
        reference.Loss(Steps, Batch, expected, expectedOutput);
        AssertClose(output.ToArray(), expectedOutput, "output");
        foreach (var p in parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), expected[p.Name], p.Name);
        }

        Assert.That(dx, Is.Null, "one-hot input has no input gradient");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void StateCarriedAcrossBatchesContinuesTheSequence(string deviceName, int hidden)
    {
        // Truncated BPTT: two batches of T steps, one GruState as both initial and final state, give the outputs of one
        // 2T-step run; the second batch's gradients are those of a T-step run from that state (no gradient into it).
        var device = TestDevices.Get(deviceName);
        const int inputSize = 4;
        var random = new Random(5);
        var xs = Enumerable.Range(0, 2 * Steps * Batch * inputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", inputSize, hidden, Layers, dropout: 0f);
        parameters.Build(device, seed: 6);
        using var whole = device.FromArray(xs, 2 * Steps * Batch, inputSize);
        var expected = gru.Forward(whole, 2 * Steps, Batch, training: false).ToArray();

        using var state = gru.CreateState(device, Batch);
        var chunks = new List<float>();
        for (int c = 0; c < 2; c++)
        {
            using var chunk = device.FromArray(xs.AsSpan(c * Steps * Batch * inputSize, Steps * Batch * inputSize), Steps * Batch, inputSize);
            chunks.AddRange(gru.Forward(chunk, Steps, Batch, training: false, initialState: state, finalState: state).ToArray());
        }

        Assert.That(chunks.ToArray(), Is.EqualTo(expected).Within(1e-5f));
    }

    [Test]
    public void RejectsAStateOfAnotherBatchInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", 3, 4, Layers, dropout: 0f);
        parameters.Build(device, seed: 0);
        using var x = device.Zeros(Steps * Batch, 3);
        using var state = gru.CreateState(device, Batch + 1);
        var ex = Assert.Throws<ArgumentException>(() => gru.Forward(x, Steps, Batch, training: false, initialState: state));
        Assert.That(ex!.Message, Does.Contain("GRU state is for batch 4"));
    }

    [Test]
    public void NamesItsParametersAsNnGru()
    {
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", 7, 5, 2, dropout: 0f);
        Assert.That(
            parameters.Parameters.Select(p => $"{p.Name} {string.Join('x', p.Shape)}"),
            Is.EqualTo(ReferenceGruModel.ParameterShapes(7, 5, 2).Select(s => $"{s.Name} {string.Join('x', s.Shape)}")));
    }

    private static ReferenceGruModel RandomReference(int inputSize, int hidden, int seed, float dropout, bool initialState)
    {
        // Every value float32-exact, so the float32 layer and the float64 reference see the same numbers.
        var random = new Random(seed);
        double Next(double scale) => (float)(((random.NextDouble() * 2) - 1) * scale);
        double[] Values(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => Next(scale))];
        var reference = new ReferenceGruModel(inputSize, hidden, Layers)
        {
            Dropout = dropout,
            DropoutSeed = 1234,
            DropoutStep = 7,
            InitialHidden = initialState ? [.. Enumerable.Range(0, Layers).Select(_ => Values(Batch * hidden, 0.8))] : null,
        };
        foreach (var (name, shape) in ReferenceGruModel.ParameterShapes(inputSize, hidden, Layers))
        {
            reference.Parameters[name] = Values(shape.Aggregate(1, (a, b) => a * b), 0.8);
        }

        reference.Parameters["x"] = Values(Steps * Batch * inputSize, 1);
        reference.OutputWeights = Values(Steps * Batch * hidden, 1);
        return reference;
    }

    private static void Load(ParameterCollection parameters, ReferenceGruModel reference)
        => parameters.Load(parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), Narrow(reference.Parameters[p.Name]))));

    private static float[] Narrow(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static void AssertClose(float[] actual, double[] expected, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5 + (1e-4 * Math.Abs(expected[i]))), $"{name}[{i}]");
        }
    }
}
