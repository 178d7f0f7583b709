using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// A char model refuses targets its loss cannot take (disposed, on another device, not one per input) before it runs:
/// the mode, the Backward of the last good ForwardLoss, the carried state and the next Forward are those of a run
/// without the refused call.
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
        from kind in new[] { "lstm", "gru", "ngram" }
        from refusal in new[] { "targets on another device", "disposed targets", "a target too few" }
        from pair in DevicePairs
        select new TestCaseData(kind, refusal, pair.Model, pair.Other);

    [TestCaseSource(nameof(ForwardLossRefusals))]
    public void ForwardLossRefusesTargetsBeforeTheModelRunsAndLosesNothing(string kind, string refusal, string modelDevice, string otherDevice)
    {
        var device = TestDevices.Get(modelDevice);
        var other = TestDevices.Get(otherDevice);
        int batch = kind == "ngram" ? Steps * Batch : Batch;

        var expected = RunForwardLoss(kind, device, refuse: null);
        var actual = RunForwardLoss(kind, device, (model, inputs) =>
        {
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

            var error = Assert.Catch(() => model.ForwardLoss(inputs, targets, batch, training: false, step: 2))!;
            Assert.That(error, refusal == "disposed targets" ? Is.InstanceOf<ObjectDisposedException>() : Is.InstanceOf<ArgumentException>(), error.ToString());
            Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
            if (refusal != "disposed targets")
            {
                Assert.That(error.Message, Does.StartWith(model.GetType().Name), "names the model");
                Assert.That(error.Message, Does.Contain(refusal switch
                {
                    "a target too few" => "needs one target per input (6",
                    _ => $"but its targets [6] is on {other.Name}",
                }));
            }
        });
        string[] what = ["the losses", "the mode", "the gradients", "the next losses"];
        for (int i = 0; i < what.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]), what[i]);
        }
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

    private static IndexTensor Ids(Device device, int vocabulary, int length, int seed)
    {
        var random = new Random(seed);
        return device.IndexFromArray([.. Enumerable.Range(0, length).Select(_ => random.Next(vocabulary))], length);
    }
}
