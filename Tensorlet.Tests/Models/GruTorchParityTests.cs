using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Models.TorchParityTests;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The GRU layer against PyTorch 1.13's nn.GRU (fixtures written by scripts/make_gru_fixtures.py; see its header; the
/// GRU char model is <see cref="HiddenStateCharModelTorchParityTests"/>'s). Tolerances as <see cref="TorchParityTests"/>: 1e-5 relative on outputs and losses, 1e-4 on gradients.
/// </summary>
public sealed class GruTorchParityTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void GruLayerMatchesPyTorchOutputsFinalStateAndEveryGradient(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/gru.safetensors"));
        var xShape = fixture["x"].Shape;
        int batch = xShape[0], steps = xShape[1], inputSize = xShape[2];
        int layers = fixture["h0"].Shape[0], hidden = fixture["h0"].Shape[2];
        using var parameters = new ParameterCollection();
        using var gru = new Gru(parameters, "gru", inputSize, hidden, layers, dropout: 0f);
        parameters.Build(device, seed: 0);
        LoadParameters(parameters, fixture, prefix: string.Empty);
        using var x = device.FromArray(TimeMajorRows(fixture["x"].Data, batch, steps, inputSize), steps * batch, inputSize);

        using (var final = gru.CreateState(device, batch))
        {
            var output = gru.Forward(x, steps, batch, training: false, finalState: final).ToArray();
            AssertClose(BatchFirst(output, batch, steps, hidden), fixture["zero.out"].Data, 1e-5, "zero.out");
            AssertClose(Stack(final.Hidden), fixture["zero.h_n"].Data, 1e-5, "zero.h_n");
        }

        using var initial = gru.CreateState(device, batch);
        for (int k = 0; k < layers; k++)
        {
            initial.Hidden[k].CopyFrom(fixture["h0"].Data.AsSpan(k * batch * hidden, batch * hidden));
        }

        using var finalFromH0 = gru.CreateState(device, batch);
        var out0 = gru.Forward(x, steps, batch, training: true, initialState: initial, finalState: finalFromH0).ToArray();
        AssertClose(BatchFirst(out0, batch, steps, hidden), fixture["out"].Data, 1e-5, "out");
        AssertClose(Stack(finalFromH0.Hidden), fixture["h_n"].Data, 1e-5, "h_n");

        using var dOut = device.FromArray(TimeMajorRows(fixture["w"].Data, batch, steps, hidden), steps * batch, hidden);
        parameters.ZeroGradients();
        var dx = gru.Backward(dOut)!.ToArray();
        foreach (var p in parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        AssertClose(BatchFirst(dx, batch, steps, inputSize), fixture["grad.x"].Data, 1e-4, "grad.x");
    }

    /// <summary>[B, T, W] batch-first rows to [T·B, W] time-major rows.</summary>
    private static float[] TimeMajorRows(float[] batchFirst, int batch, int steps, int width)
    {
        var result = new float[batchFirst.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                Array.Copy(batchFirst, ((b * steps) + t) * width, result, ((t * batch) + b) * width, width);
            }
        }

        return result;
    }
}
