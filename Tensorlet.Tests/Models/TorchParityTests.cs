using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The two models and Adam against PyTorch 1.13 running the notebook's modules
/// (fixtures written by scripts/make_torch_fixtures.py; see its header for the protocol).
/// Tolerances are docs/design.md's for float32 against PyTorch: 1e-5 relative on outputs and losses,
/// 1e-4 on gradients, each with a small absolute floor for entries near zero.
/// </summary>
public sealed class TorchParityTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LstmMatchesPyTorchLogitsLossGradientsAndThreeAdamSteps(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/lstm.safetensors"));
        var inputs = fixture["inputs"];
        int batch = inputs.Shape[0], steps = inputs.Shape[1];
        using var model = new LstmCharModel(device, 7, 5, 2, dropout: 0f, seed: 0);
        LoadParameters(model.Parameters, fixture, prefix: string.Empty);
        using var x = device.IndexFromArray(TimeMajor(inputs.ToInt32Array(), batch, steps), batch * steps);
        using var y = device.IndexFromArray(TimeMajor(fixture["targets"].ToInt32Array(), batch, steps), batch * steps);

        using (var final = model.Lstm.CreateState(device, batch))
        {
            var logits = model.Logits(x, batch, training: false, step: 0, initialState: null, finalState: final).ToArray();
            AssertClose(BatchFirst(logits, batch, steps, 7), fixture["logits"].Data, 1e-5, "logits");
            AssertClose(Stack(final.Hidden), fixture["h_n"].Data, 1e-5, "h_n");
            AssertClose(Stack(final.Cell), fixture["c_n"].Data, 1e-5, "c_n");
        }

        using (var initial = StateFrom(model, device, batch, fixture["state.h0"], fixture["state.c0"]))
        using (var final = model.Lstm.CreateState(device, batch))
        {
            var logits = model.Logits(x, batch, training: false, step: 0, initialState: initial, finalState: final).ToArray();
            AssertClose(BatchFirst(logits, batch, steps, 7), fixture["state.logits"].Data, 1e-5, "state.logits");
            AssertClose(Stack(final.Hidden), fixture["state.h_n"].Data, 1e-5, "state.h_n");
            AssertClose(Stack(final.Cell), fixture["state.c_n"].Data, 1e-5, "state.c_n");
        }

        CheckGradientsAndAdam(model, fixture, x, y, batch);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void NgramMlpMatchesPyTorchForEveryActivation(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var (activation, file) in new[] { (Activation.Relu, "relu"), (Activation.Tanh, "tanh"), (Activation.Sigmoid, "sigmoid") })
        {
            var fixture = SafeTensorsFile.Read(TestData.Fixture($"torch/ngram_{file}.safetensors"));
            using var model = new NgramMlp(device, 11, 7, 6, activation, seed: 0);
            LoadParameters(model.Parameters, fixture, prefix: string.Empty);
            var inputs = fixture["inputs"].ToInt32Array();
            using var x = device.IndexFromArray(inputs, inputs.Length);
            using var y = device.IndexFromArray(fixture["targets"].ToInt32Array(), inputs.Length);
            AssertClose(model.Logits(x).ToArray(), fixture["logits"].Data, 1e-5, $"{file} logits");
            CheckGradientsAndAdam(model, fixture, x, y, inputs.Length);
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LoadsACheckpointSavedByPyTorchAndMatchesItsLogits(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var checkpoint = SafeTensorsFile.Read(TestData.Fixture("torch/lstm_interop.safetensors"));
        var io = SafeTensorsFile.Read(TestData.Fixture("torch/lstm_interop_io.safetensors"));
        using var model = new LstmCharModel(device, 32, 16, 2, dropout: 0f, seed: 0);
        LoadParameters(model.Parameters, checkpoint, prefix: string.Empty);
        var inputs = io["inputs"];
        int batch = inputs.Shape[0], steps = inputs.Shape[1];
        using var x = device.IndexFromArray(TimeMajor(inputs.ToInt32Array(), batch, steps), batch * steps);
        var logits = model.Logits(x, batch, training: false, step: 0, initialState: null, finalState: null).ToArray();
        AssertClose(BatchFirst(logits, batch, steps, 32), io["logits"].Data, 1e-5, "interop logits");
    }

    internal static void LoadParameters(ParameterCollection parameters, SafeTensorsFile file, string prefix)
        => parameters.Load(parameters.Parameters.ToDictionary(p => p.Name, p =>
        {
            var t = file[prefix + p.Name];
            return (t.Shape.ToArray(), t.Data);
        }));

    internal static int[] TimeMajor(int[] batchFirst, int batch, int steps)
    {
        var result = new int[batch * steps];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                result[(t * batch) + b] = batchFirst[(b * steps) + t];
            }
        }

        return result;
    }

    internal static float[] BatchFirst(float[] timeMajor, int batch, int steps, int width)
    {
        var result = new float[timeMajor.Length];
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                Array.Copy(timeMajor, ((t * batch) + b) * width, result, ((b * steps) + t) * width, width);
            }
        }

        return result;
    }

    internal static void CheckGradientsAndAdam(ICharModel model, SafeTensorsFile fixture, IndexTensor x, IndexTensor y, int batch)
    {
        using var adam = new Adam(model.Parameters, learningRate: 0.01f);
        var adamLosses = fixture["adam_losses"].Data;
        for (int step = 1; step <= 3; step++)
        {
            adam.ZeroGradients();
            double loss = model.ForwardLoss(x, y, batch, training: true, step: step).ToArray().Average();
            model.Backward();
            Assert.That(loss, Is.EqualTo(adamLosses[step - 1]).Within(1e-5 * Math.Abs(adamLosses[step - 1])), $"loss before Adam step {step}");
            if (step == 1)
            {
                Assert.That(loss, Is.EqualTo(fixture["loss"].Data[0]).Within(1e-5 * fixture["loss"].Data[0]), "loss");
                foreach (var p in model.Parameters.Parameters)
                {
                    AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
                }
            }

            adam.Step();
        }

        foreach (var p in model.Parameters.Parameters)
        {
            // Three steps of lr 0.01 move each parameter by up to 0.03; 1e-5 relative plus 1e-6 absolute.
            AssertClose(p.Value.ToArray(), fixture[$"adam3.{p.Name}"].Data, 1e-5, $"adam3.{p.Name}");
        }
    }

    private static LstmState StateFrom(LstmCharModel model, Device device, int batch, SafeTensor h0, SafeTensor c0)
    {
        var state = model.Lstm.CreateState(device, batch);
        int size = batch * model.HiddenSize;
        for (int k = 0; k < model.NumLayers; k++)
        {
            state.Hidden[k].CopyFrom(h0.Data.AsSpan(k * size, size));
            state.Cell[k].CopyFrom(c0.Data.AsSpan(k * size, size));
        }

        return state;
    }

    internal static float[] Stack(IReadOnlyList<Tensor> perLayer) => [.. perLayer.SelectMany(t => t.ToArray())];

    internal static void AssertClose(float[] actual, float[] expected, double relative, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        double absolute = relative / 10;
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(absolute + (relative * Math.Abs(expected[i]))), $"{name}[{i}]");
        }
    }
}
