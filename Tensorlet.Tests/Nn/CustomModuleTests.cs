using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Packaging;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Modules written outside the library, from its public surface only (this assembly sees no internals of the Nn
/// namespace's modules): the example of docs/modules.md, which must be quoted there exactly, named as PyTorch names
/// them, composed with library modules, and with gradients that match central finite differences.
/// </summary>
public sealed class CustomModuleTests
{
    private const string Marker = "<!-- example: Tensorlet.Tests/Nn/CustomModuleTests.cs -->";

    [Test]
    public void CustomModulesTakeStateDictNamesAndTheirGradientsMatchFiniteDifferences()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 4), new Residual(new Sequential(new Linear(4, 4), new Tanh())), new Shift(4), new Linear(4, 2));
        model.Build(device, seed: 3);
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "1.inner.0.weight", "1.inner.0.bias", "2.bias", "3.weight", "3.bias" }));
        var random = new Random(5);
        var values = model.Parameters.Values.ToArray();
        model.Parameters.Values.CopyFrom([.. values.Select(_ => random.NextSingle() - 0.5f)]);
        float[] input = [.. Enumerable.Range(0, 5 * 3).Select(_ => random.NextSingle() * 2 - 1)];
        float[] target = [.. Enumerable.Range(0, 5 * 2).Select(i => MathF.Sin(i))];
        using var x = device.FromArray(input, 5, 3);
        using var y = device.FromArray(target, 5, 2);
        using var loss = new MseLoss(Reduction.Sum);

        model.Parameters.ZeroGradients();
        loss.Forward(model.Forward(x), y);
        var dx = model.Backward(loss.Backward())!.ToArray();
        var gradients = model.Parameters.Gradients.ToArray();

        // Central differences of the float32 model (the library's own backward passes are checked against float64
        // references elsewhere; this checks that the custom modules' Backward is the derivative of their Forward).
        const float eps = 1e-2f;
        double Loss(float[] parameters, float[] inputs)
        {
            model.Parameters.Values.CopyFrom(parameters);
            x.CopyFrom(inputs);
            return loss.Forward(model.Forward(x), y);
        }

        var theta = model.Parameters.Values.ToArray();
        CheckAgainstCentralDifferences(theta, perturbed => Loss(perturbed, input), gradients, "parameter");
        CheckAgainstCentralDifferences(input, perturbed => Loss(theta, perturbed), dx, "input");

        static void CheckAgainstCentralDifferences(float[] at, Func<float[], double> loss, float[] analytic, string what)
        {
            for (int i = 0; i < at.Length; i++)
            {
                var plus = (float[])at.Clone();
                var minus = (float[])at.Clone();
                plus[i] += eps;
                minus[i] -= eps;
                double numeric = (loss(plus) - loss(minus)) / (2 * eps);
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-3 + (1e-2 * Math.Abs(numeric))), $"{what} element {i}");
            }
        }
    }

    [Test]
    public void CustomModulesTrainThroughTheTrainerAndRoundTripThroughAModuleCheckpoint()
    {
        var device = TestDevices.Get("cpu");
        float[] x = [.. Enumerable.Range(0, 48).Select(i => -2f + (4f * i / 47))];
        float[] y = [.. x.Select(v => MathF.Sin(1.5f * v) + 0.5f)];
        var data = new TensorBatchSource<float, float>(x, [1], y, [1]);
        Sequential Model() => new(new Linear(1, 8), new Residual(new Sequential(new Linear(8, 8), new Tanh())), new Shift(8), new Linear(8, 1));
        using var model = Model();
        model.Build(device, seed: 2);
        using var mse = new MseLoss();
        using var adam = new Adam(model.Parameters, 0.02f);
        var result = new Trainer(model, mse, adam, new TrainerOptions { Epochs = 30, BatchSize = 12 }).Train(data, null);
        Assert.That(result.Epochs[^1].TrainLoss, Is.LessThan(result.Epochs[0].TrainLoss / 4), "it learns");

        var path = Path.Combine(Path.GetTempPath(), $"tensorlet-custom-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path, adam);
            using var loaded = Model();
            loaded.Build(device);
            using var loadedAdam = new Adam(loaded.Parameters, 0.02f);
            ModuleCheckpoint.Load(loaded, path, loadedAdam);
            Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
            Assert.That(loadedAdam.StepCount, Is.EqualTo(adam.StepCount));
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    [Test]
    public void JoinNameNamesAsStateDictDoes()
    {
        Assert.That(Probe.Join(string.Empty, "bias"), Is.EqualTo("bias"));
        Assert.That(Probe.Join("1.inner", "weight"), Is.EqualTo("1.inner.weight"));
        Assert.Throws<ArgumentException>(() => Probe.Join("1", string.Empty));
    }

    [Test]
    public void TheDocQuotesTheExample()
    {
        var source = DocText.Read("Tensorlet.Tests", "Nn", "CustomModuleTests.cs");
        var region = DocText.Between(source, "// <custom-modules>\n", "// </custom-modules>", "CustomModuleTests.cs");
        var block = DocText.QuotedBlock(DocText.Read("docs", "modules.md"), Marker, "docs/modules.md");
        Assert.That(block.Trim(), Is.EqualTo(region.Trim()), "docs/modules.md's custom-module example differs from the example region of CustomModuleTests.cs; copy it into the doc.");
    }

    private sealed class Probe : Module
    {
        public static string Join(string prefix, string name) => JoinName(prefix, name);

        public override Tensor? Backward(Tensor outputGradient) => outputGradient;
    }
}

// <custom-modules>
/// <summary>y = x + b: a learnable shift per feature (a Linear's bias without its weight).</summary>
public sealed class Shift(int features) : Module
{
    private Parameter? bias;
    private Tensor? output;

    // Called once by Build, in state_dict order; JoinName gives "2.bias" for the third child of a Sequential.
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
        => bias = parameters.Add(JoinName(prefix, "bias"), [features], _ => 0f);

    public override Tensor Forward(Tensor input)
    {
        output = Buffers.Like(output, input); // reused from batch to batch: training allocates nothing
        Ops.Copy(input, output);
        Ops.AddBias(output, bias!.Value);
        return output;
    }

    public override Tensor Backward(Tensor outputGradient)
    {
        Ops.SumColumns(outputGradient, bias!.Gradient, accumulate: true); // dL/db += the sum of dL/dy over rows
        return outputGradient;                                            // dL/dx = dL/dy
    }

    protected override void DisposeBuffers() => output?.Dispose();
}

/// <summary>y = x + inner(x): a residual connection around any module whose output has its input's shape.</summary>
public sealed class Residual : Module
{
    private readonly Module inner;
    private Tensor? output;
    private Tensor? gradient;

    public Residual(Module inner) => this.inner = AddModule("inner", inner); // its parameters: "inner.0.weight", ...

    public override Tensor Forward(Tensor input)
    {
        var fx = inner.Forward(input);
        output = Buffers.Like(output, input);
        Ops.Add(input, fx, output);
        return output;
    }

    public override Tensor Backward(Tensor outputGradient)
    {
        gradient = Buffers.Like(gradient, outputGradient);
        Ops.Copy(outputGradient, gradient);             // a Backward may use its argument as scratch: keep dL/dy
        var dx = inner.Backward(outputGradient)!;       // dL/dx through inner, in inner's buffer
        Ops.Add(dx, gradient, dx);                      // plus dL/dy through the identity
        return dx;
    }

    protected override void DisposeBuffers()
    {
        output?.Dispose();
        gradient?.Dispose();
    }
}

internal static class Buffers
{
    /// <summary>A buffer of <paramref name="like"/>'s shape on its device: <paramref name="buffer"/> when it is one already.</summary>
    public static Tensor Like(Tensor? buffer, Tensor like)
    {
        if (buffer is not null && buffer.Shape.SequenceEqual(like.Shape) && ReferenceEquals(buffer.Device, like.Device))
        {
            return buffer;
        }

        buffer?.Dispose();
        return like.Device.Zeros([.. like.Shape]);
    }
}

// </custom-modules>
