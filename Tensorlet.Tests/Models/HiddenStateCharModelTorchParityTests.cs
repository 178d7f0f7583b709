using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Models.TorchParityTests;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The char models whose state is h alone, the GRU's and the RNN's (tanh), against PyTorch 1.13: logits and final state
/// from a zero and from a given state, the loss, every gradient and three Adam steps (fixtures written by
/// scripts/make_gru_fixtures.py and scripts/make_rnn_char_fixtures.py; see their headers). Tolerances as
/// <see cref="TorchParityTests"/>: 1e-5 relative on outputs and losses, 1e-4 on gradients.
/// </summary>
public sealed class HiddenStateCharModelTorchParityTests
{
    private const int Vocabulary = 7, Hidden = 5, Layers = 2;

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from cell in new[] { "gru", "rnn" }
        select new TestCaseData(device, cell);

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorchLogitsFinalStateLossGradientsAndThreeAdamSteps(string deviceName, string cell)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture($"torch/{cell}_char.safetensors"));
        var inputs = fixture["inputs"];
        int batch = inputs.Shape[0], steps = inputs.Shape[1];
        var spec = cell == "gru" ? CharModelSpec.Gru(Vocabulary, Hidden, Layers, dropout: 0f) : CharModelSpec.Rnn(Vocabulary, Hidden, Layers, dropout: 0f);
        using var model = (RnnCharModel)spec.Create(device, seed: 0);
        LoadParameters(model.Parameters, fixture, prefix: string.Empty);
        using var x = device.IndexFromArray(TimeMajor(inputs.ToInt32Array(), batch, steps), batch * steps);
        using var y = device.IndexFromArray(TimeMajor(fixture["targets"].ToInt32Array(), batch, steps), batch * steps);

        using (var final = CreateState(model, device, batch))
        {
            var logits = Logits(model, x, batch, null, final).ToArray();
            AssertClose(BatchFirst(logits, batch, steps, Vocabulary), fixture["logits"].Data, 1e-5, "logits");
            AssertClose(Stack(final.Hidden), fixture["h_n"].Data, 1e-5, "h_n");
        }

        using (var state = CreateState(model, device, batch))
        {
            for (int k = 0; k < model.NumLayers; k++)
            {
                state.Hidden[k].CopyFrom(fixture["state.h0"].Data.AsSpan(k * batch * Hidden, batch * Hidden));
            }

            // One state as initial and final, as truncated BPTT carries it.
            var logits = Logits(model, x, batch, state, state).ToArray();
            AssertClose(BatchFirst(logits, batch, steps, Vocabulary), fixture["state.logits"].Data, 1e-5, "state.logits");
            AssertClose(Stack(state.Hidden), fixture["state.h_n"].Data, 1e-5, "state.h_n");
        }

        CheckGradientsAndAdam(model, fixture, x, y, batch);
    }

    private static RnnState CreateState(RnnCharModel model, Device device, int batch) => model switch
    {
        GruCharModel gru => gru.Gru.CreateState(device, batch),
        ElmanCharModel rnn => rnn.Rnn.CreateState(device, batch),
        _ => throw new ArgumentException($"Not a char model with an h state: {model.Kind}.", nameof(model)),
    };

    private static Tensor Logits(RnnCharModel model, IndexTensor x, int batch, RnnState? initial, RnnState? final) => model switch
    {
        GruCharModel gru => gru.Logits(x, batch, training: false, step: 0, (GruState?)initial, (GruState?)final),
        ElmanCharModel rnn => rnn.Logits(x, batch, training: false, step: 0, (RnnHiddenState?)initial, (RnnHiddenState?)final),
        _ => throw new ArgumentException($"Not a char model with an h state: {model.Kind}.", nameof(model)),
    };
}
