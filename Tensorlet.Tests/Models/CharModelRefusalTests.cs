using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// A char model refuses targets its loss cannot take (disposed, on another device, not one per input) before it runs,
/// and inputs on another device or disposed before its mode, dropout key or initial state change: the mode, the Backward
/// of the last good ForwardLoss, the carried state and the next Forward are those of a run without the refused call.
/// </summary>
public sealed class CharModelRefusalTests
{
    private const int Vocabulary = 5;
    private const int NgramVocabulary = 7;
    private const int Hidden = 4;
    private const int Steps = 3;
    private const int Batch = 2;

    private static readonly (string Model, string Other)[] DevicePairs = [("cpu", "ilgpu-cpu"), ("ilgpu-cpu", "cpu")];

    private static IEnumerable<TestCaseData> ForwardLossRefusals() =>
        from kind in new[] { "lstm", "gru", "rnn", "ngram" }
        from refusal in new[] { "targets on another device", "disposed targets", "a target too few", "inputs on another device" }
        from pair in DevicePairs
        select new TestCaseData(kind, refusal, pair.Model, pair.Other);

    private static IEnumerable<TestCaseData> InputRefusals() =>
        from refusal in new[] { "inputs on another device", "disposed inputs" }
        from pair in DevicePairs
        select new TestCaseData(refusal, pair.Model, pair.Other);

    [TestCaseSource(nameof(ForwardLossRefusals))]
    public void ForwardLossRefusesTargetsAndInputsBeforeTheModelRunsAndLosesNothing(string kind, string refusal, string modelDevice, string otherDevice)
    {
        var device = TestDevices.Get(modelDevice);
        var other = TestDevices.Get(otherDevice);
        int batch = kind == "ngram" ? Steps * Batch : Batch;

        var expected = RunForwardLoss(kind, device, refuse: null);
        var actual = RunForwardLoss(kind, device, (model, inputs) =>
        {
            using var inputsElsewhere = refusal == "inputs on another device" ? Ids(other, kind == "ngram" ? NgramVocabulary : Vocabulary, Steps * Batch, seed: 3) : null;
            using var targets = refusal switch
            {
                "targets on another device" => Ids(other, Vocabulary, Steps * Batch, seed: 4),
                "a target too few" => Ids(device, Vocabulary, (Steps * Batch) - 1, seed: 4),
                _ => Ids(device, Vocabulary, Steps * Batch, seed: 4),
            };
            if (refusal == "disposed targets")
            {
                targets.Dispose();
            }

            var error = Assert.Catch(() => model.ForwardLoss(inputsElsewhere ?? inputs, targets, batch, training: false, step: 2))!;
            Assert.That(error, refusal == "disposed targets" ? Is.InstanceOf<ObjectDisposedException>() : Is.InstanceOf<ArgumentException>(), error.ToString());
            Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
            if (refusal != "disposed targets")
            {
                Assert.That(error.Message, Does.StartWith(model.GetType().Name), "names the model");
                Assert.That(error.Message, Does.Contain(refusal switch
                {
                    "a target too few" => "needs one target per input (6",
                    "targets on another device" => $"but its targets [6] is on {other.Name}",
                    _ => $"but its input [6] is on {other.Name}",
                }));
            }
        });
        string[] what = ["the losses", "the mode", "the gradients", "the next losses"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }
    }

    [TestCaseSource(nameof(InputRefusals))]
    public void LogitsRefusesInputsBeforeItChangesTheModeTheDropoutKeyOrTheInitialState(string refusal, string modelDevice, string otherDevice)
    {
        var device = TestDevices.Get(modelDevice);
        var other = TestDevices.Get(otherDevice);

        var expected = RunLogits(device, refuse: null);
        var actual = RunLogits(device, model =>
        {
            using var inputs = Ids(refusal == "disposed inputs" ? device : other, Vocabulary, Steps * Batch, seed: 3);
            if (refusal == "disposed inputs")
            {
                inputs.Dispose();
            }

            using var state = model.Lstm.CreateState(device, Batch);
            var error = Assert.Catch(() => model.Logits(inputs, Batch, training: false, step: 9, state, null))!;
            Assert.That(error, refusal == "disposed inputs" ? Is.InstanceOf<ObjectDisposedException>() : Is.InstanceOf<ArgumentException>(), error.ToString());
            Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
        });
        Assert.That(actual, Is.EqualTo(expected));
    }

    // An initial state that cannot start this batch (another batch size, or disposed) is refused before the mode, the
    // dropout key or the module's InitialState change; a Logits that runs leaves the module's InitialState as it was.
    [TestCase("cpu", "a state of another batch")]
    [TestCase("cpu", "a disposed state")]
    [TestCase("cpu", "a good state")]
    [TestCase("ilgpu-cpu", "a state of another batch")]
    public void LogitsRefusesAnInitialStateBeforeItChangesAnythingAndKeepsTheModulesOwn(string deviceName, string given)
    {
        var device = TestDevices.Get(deviceName);
        var expected = RunLogits(device, refuse: null);
        var actual = RunLogits(device, model =>
        {
            using var inputs = Ids(device, Vocabulary, Steps * Batch, seed: 3);
            using var state = model.Lstm.CreateState(device, given == "a state of another batch" ? Batch + 1 : Batch);
            if (given == "a disposed state")
            {
                state.Dispose();
            }

            if (given == "a good state")
            {
                model.Logits(inputs, Batch, training: true, step: 1, state, null);
                return;
            }

            var error = Assert.Catch(() => model.Logits(inputs, Batch, training: false, step: 9, state, null))!;
            Assert.That(error.Message, Does.Contain(given == "a disposed state" ? "InitialState has been disposed" : "state is for batch 3").And.Not.Contain('\n'), error.ToString());
        });
        Assert.That(actual, Is.EqualTo(expected));
    }

    // A ForwardLoss in training (carrying the state, for the recurrent models), `refuse` with other inputs, then Backward
    // of that ForwardLoss and a next ForwardLoss on the other inputs. Returns the losses, the mode (1 in training), the
    // gradients and the next losses.
    private static float[][] RunForwardLoss(string kind, Device device, Action<ICharModel, IndexTensor>? refuse)
    {
        using ICharModel model = kind switch
        {
            "lstm" => new LstmCharModel(device, Vocabulary, Hidden, 1, 0f, seed: 7) { CarryState = true },
            "gru" => new GruCharModel(device, Vocabulary, Hidden, 1, 0f, seed: 7) { CarryState = true },
            "rnn" => new ElmanCharModel(device, Vocabulary, Hidden, 1, 0f, seed: 7) { CarryState = true },
            _ => new NgramMlp(device, NgramVocabulary, Vocabulary, Hidden, Activation.Tanh, seed: 7),
        };
        int batch = kind == "ngram" ? Steps * Batch : Batch;
        using var inputs = Ids(device, kind == "ngram" ? NgramVocabulary : Vocabulary, Steps * Batch, seed: 1);
        using var targets = Ids(device, Vocabulary, Steps * Batch, seed: 2);
        using var otherInputs = Ids(device, kind == "ngram" ? NgramVocabulary : Vocabulary, Steps * Batch, seed: 3);
        var losses = model.ForwardLoss(inputs, targets, batch, training: true, step: 1).ToArray();
        refuse?.Invoke(model, otherInputs);
        float training = ((Module)model).Training ? 1f : 0f;
        model.Backward();
        float[] gradients = [.. model.Parameters.Parameters.SelectMany(p => p.Gradient.ToArray())];
        return [losses, [training], gradients, model.ForwardLoss(otherInputs, targets, batch, training: true, step: 2).ToArray()];
    }

    // Logits in training at step 1, an InitialState of the caller's, `refuse`, then a Forward of the model itself, which
    // reads the mode, the dropout key (2 layers, dropout 0.5) and the InitialState. Returns the mode (1 in training),
    // whether the InitialState is still the caller's (1), and that Forward's output.
    private static float[] RunLogits(Device device, Action<LstmCharModel>? refuse)
    {
        using var model = new LstmCharModel(device, Vocabulary, Hidden, 2, 0.5f, seed: 7);
        using var inputs = Ids(device, Vocabulary, Steps * Batch, seed: 1);
        model.Logits(inputs, Batch, training: true, step: 1, null, null);
        using var initial = model.Lstm.CreateState(device, Batch);
        model.Lstm.InitialState = initial;
        refuse?.Invoke(model);
        float training = model.Training ? 1f : 0f;
        float sameState = ReferenceEquals(model.Lstm.InitialState, initial) ? 1f : 0f;
        using var timeMajor = inputs.Reshape(Steps, Batch);
        return [training, sameState, .. model.Forward(timeMajor).ToArray()];
    }

    private static IndexTensor Ids(Device device, int vocabulary, int length, int seed)
    {
        var random = new Random(seed);
        return device.IndexFromArray([.. Enumerable.Range(0, length).Select(_ => random.Next(vocabulary))], length);
    }
}
