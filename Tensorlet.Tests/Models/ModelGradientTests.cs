using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The whole-model gradient checks: the float64 reference models against central finite
/// differences, then Tensorlet's float32 engine against the reference on every device.
/// </summary>
public sealed class ModelGradientTests
{
    private const int Vocabulary = 5;
    private const int Hidden = 3;
    private const int Layers = 2;
    private const int Batch = 2;
    private const int Steps = 4;

    [Test]
    public void ReferenceLstmGradientsMatchFiniteDifferences()
    {
        var (model, inputs, targets) = RandomLstm(seed: 1);
        var analytic = new Dictionary<string, double[]>();
        model.Loss(inputs, targets, analytic);
        double worst = GradientCheck.MaxRelativeError(model.Parameters, analytic, () => model.Loss(inputs, targets));
        TestContext.Out.WriteLine($"worst relative error {worst:G3}");
    }

    [Test]
    public void ReferenceLstmWithDropoutGradientsMatchFiniteDifferences()
    {
        var (model, inputs, targets) = RandomLstm(seed: 5, dropout: 0.5f);
        var analytic = new Dictionary<string, double[]>();
        model.Loss(inputs, targets, analytic);
        GradientCheck.MaxRelativeError(model.Parameters, analytic, () => model.Loss(inputs, targets));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LstmEngineWithDropoutMatchesTheReferenceWithTheSameMask(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (reference, inputs, targets) = RandomLstm(seed: 6, dropout: 0.5f);
        var expected = new Dictionary<string, double[]>();
        double expectedLoss = reference.Loss(inputs, targets, expected);

        using var model = new LstmCharModel(device, Vocabulary, Hidden, Layers, dropout: 0.5f, seed: 0) { DropoutSeed = reference.DropoutSeed };
        model.Parameters.Load(reference.Parameters.ToDictionary(p => p.Key, p => (model.Parameters[p.Key].Shape.ToArray(), p.Value.Select(x => (float)x).ToArray())));
        using var x = device.IndexFromArray(TimeMajor(inputs), Steps * Batch);
        using var y = device.IndexFromArray(TimeMajor(targets), Steps * Batch);
        model.Parameters.ZeroGradients();
        var losses = model.ForwardLoss(x, y, Batch, training: true, step: (long)reference.DropoutStep).ToArray();
        model.Backward();
        Assert.That(losses.Average(), Is.EqualTo(expectedLoss).Within(1e-5 * Math.Abs(expectedLoss)));
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), expected[p.Name], p.Name);
        }

        // Evaluation mode has no dropout.
        var evalLosses = model.ForwardLoss(x, y, Batch, training: false, step: 0).ToArray();
        var plain = new ReferenceLstmModel(Vocabulary, Hidden, Layers);
        foreach (var (name, values) in reference.Parameters)
        {
            plain.Parameters[name] = values;
        }

        Assert.That(evalLosses.Average(), Is.EqualTo(plain.Loss(inputs, targets)).Within(1e-5 * expectedLoss));
    }

    [TestCase(Activation.Relu)]
    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.Gelu)]
    [TestCase(Activation.Silu)]
    [TestCase(Activation.LeakyRelu)]
    public void ReferenceNgramGradientsMatchFiniteDifferences(Activation activation)
    {
        var (model, inputs, targets) = RandomNgram(activation, seed: 2);
        var analytic = new Dictionary<string, double[]>();
        model.Loss(inputs, targets, analytic);
        GradientCheck.MaxRelativeError(model.Parameters, analytic, () => model.Loss(inputs, targets));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LstmEngineMatchesTheReference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (reference, inputs, targets) = RandomLstm(seed: 3);
        var expected = new Dictionary<string, double[]>();
        double expectedLoss = reference.Loss(inputs, targets, expected);

        using var model = new LstmCharModel(device, Vocabulary, Hidden, Layers, dropout: 0f, seed: 0);
        model.Parameters.Load(reference.Parameters.ToDictionary(p => p.Key, p => (model.Parameters[p.Key].Shape.ToArray(), p.Value.Select(x => (float)x).ToArray())));
        using var x = device.IndexFromArray(TimeMajor(inputs), Steps * Batch);
        using var y = device.IndexFromArray(TimeMajor(targets), Steps * Batch);
        model.Parameters.ZeroGradients();
        var losses = model.ForwardLoss(x, y, Batch, training: true, step: 1).ToArray();
        model.Backward();

        // float32 forward over a few dozen terms: 1e-5 relative on the loss, 1e-4 on the gradients (docs/design.md, Tolerances).
        Assert.That(losses.Average(), Is.EqualTo(expectedLoss).Within(1e-5 * Math.Abs(expectedLoss)));
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), expected[p.Name], p.Name);
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void NgramEngineMatchesTheReference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var activation in new[] { Activation.Relu, Activation.Tanh, Activation.Sigmoid, Activation.Gelu, Activation.Silu, Activation.LeakyRelu })
        {
            var (reference, inputs, targets) = RandomNgram(activation, seed: 4);
            var expected = new Dictionary<string, double[]>();
            double expectedLoss = reference.Loss(inputs, targets, expected);
            using var model = new NgramMlp(device, 11, 7, 6, activation, seed: 0);
            model.Parameters.Load(reference.Parameters.ToDictionary(p => p.Key, p => (model.Parameters[p.Key].Shape.ToArray(), p.Value.Select(x => (float)x).ToArray())));
            using var x = device.IndexFromArray(inputs, inputs.Length);
            using var y = device.IndexFromArray(targets, targets.Length);
            model.Parameters.ZeroGradients();
            var losses = model.ForwardLoss(x, y, inputs.Length, training: true, step: 1).ToArray();
            model.Backward();
            Assert.That(losses.Average(), Is.EqualTo(expectedLoss).Within(1e-5 * Math.Abs(expectedLoss)), activation.ToString());
            foreach (var p in model.Parameters.Parameters)
            {
                AssertClose(p.Gradient.ToArray(), expected[p.Name], $"{activation} {p.Name}");
            }
        }
    }

    internal static int[] TimeMajor(int[,] batchFirst)
    {
        int b = batchFirst.GetLength(0), t = batchFirst.GetLength(1);
        var result = new int[b * t];
        for (int s = 0; s < t; s++)
        {
            for (int n = 0; n < b; n++)
            {
                result[(s * b) + n] = batchFirst[n, s];
            }
        }

        return result;
    }

    private static void AssertClose(float[] actual, double[] expected, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-6 + (1e-4 * Math.Abs(expected[i]))), $"{name}[{i}]");
        }
    }

    private static (ReferenceLstmModel Model, int[,] Inputs, int[,] Targets) RandomLstm(int seed, float dropout = 0f)
    {
        var random = new Random(seed);
        var model = new ReferenceLstmModel(Vocabulary, Hidden, Layers) { Dropout = dropout, DropoutSeed = 1234, DropoutStep = 7 };
        foreach (var (name, shape) in ReferenceLstmModel.ParameterShapes(Vocabulary, Hidden, Layers))
        {
            model.Parameters[name] = [.. Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (random.NextDouble() * 1.6) - 0.8)];
        }

        var inputs = new int[Batch, Steps];
        var targets = new int[Batch, Steps];
        for (int n = 0; n < Batch; n++)
        {
            for (int s = 0; s < Steps; s++)
            {
                inputs[n, s] = random.Next(Vocabulary);
                targets[n, s] = random.Next(Vocabulary);
            }
        }

        return (model, inputs, targets);
    }

    private static (ReferenceNgramMlp Model, int[] Inputs, int[] Targets) RandomNgram(Activation activation, int seed)
    {
        var random = new Random(seed);
        var model = new ReferenceNgramMlp(11, 7, 6, activation);
        foreach (var (name, shape) in ReferenceNgramMlp.ParameterShapes(11, 7, 6))
        {
            model.Parameters[name] = [.. Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (random.NextDouble() * 1.6) - 0.8)];
        }

        // Repeated n-grams, so the scatter-add accumulates.
        int[] inputs = [3, 0, 3, 10, 7, 3, 1, 0];
        int[] targets = [.. inputs.Select(_ => random.Next(7))];
        return (model, inputs, targets);
    }
}
