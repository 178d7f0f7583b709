using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Core;

/// <summary>
/// A size, count, step or position out of range, in any of the library's projects, is refused with an
/// ArgumentOutOfRangeException whose ParamName is the argument and whose message is one line that names it, the range
/// and the value got: not .NET's ThrowIf message, to which the exception adds a second line "Actual value was ...".
/// </summary>
public sealed class ArgumentRangeTests
{
    private static IEnumerable<TestCaseData> Refusals()
    {
        // Modules.
        yield return Case("Linear", "inFeatures", "inFeatures must be at least 1; got 0.", () => new Linear(0, 4));
        yield return Case("Lstm", "hiddenSize", "hiddenSize must be at least 1; got 0.", () => new Lstm(4, 0));
        yield return Case("Gru", "numLayers", "numLayers must be at least 1; got 0.", () => new Gru(4, 4, numLayers: 0));
        yield return Case("Rnn", "nonlinearity", "The RNN nonlinearity must be Tanh or Relu; got 2.", () => new Rnn(4, 4, nonlinearity: (RnnNonlinearity)2));
        yield return Case("Embedding", "numEmbeddings", "numEmbeddings must be at least 1; got -3.", () => new Embedding(-3, 4));
        yield return Case("LayerNorm", "normalizedShape", "normalizedShape must be at least 1; got 0.", () => new LayerNorm(0));
        yield return Case("BatchNorm1d", "numFeatures", "numFeatures must be at least 1; got -1.", () => new BatchNorm1d(-1));
        yield return Case("Slice", "count", "count must be at least 1; got 0.", () => new Slice(1, 0));

        // Schedules and optimizers.
        yield return Case("CosineAnnealingLR", "tMax", "tMax must be at least 1; got 0.", () => WithSgd(sgd => new CosineAnnealingLR(sgd, tMax: 0)));
        yield return Case("LinearLR", "totalIters", "totalIters must be at least 0; got -1.", () => WithSgd(sgd => new LinearLR(sgd, totalIters: -1)));
        yield return Case("StepLR", "stepSize", "stepSize must be at least 1; got 0.", () => WithSgd(sgd => new StepLR(sgd, stepSize: 0)));
        yield return Case("WarmupCosineLR", "warmupSteps", "warmupSteps must be at least 0; got -2.", () => WithSgd(sgd => new WarmupCosineLR(sgd, warmupSteps: -2, totalSteps: 10)));
        yield return Case("Sgd.LoadState", "state.Step", "state.Step must be at least 0; got -1.", () => WithSgd(sgd => sgd.LoadState(new SgdState(-1, null))));
        yield return Case("Ops.AdamStep", "step", "step must be at least 1; got 0.", AdamStepZero);

        // Devices and kernels.
        yield return Case("Device", "threads", "threads must be at least 0; got -1.", () => Device.Create("cpu", threads: -1).Dispose());
        yield return Case("CpuGemm", "m", "m must be at least 0; got -1.", () => CpuGemm.Gemm(false, false, -1, 1, 1, 1f, new float[1], new float[1], 0f, new float[1], threads: 1));
        yield return Case("CpuSoftmax", "rows", "rows must be at least 0; got -2.", () => CpuSoftmax.LogSoftmax(new float[2], new float[2], -2, 1, 1, CpuKernelPlan.Machine.Width));
        yield return Case("CpuNllLoss", "classes", "classes must be at least 0; got -1.", () => CpuNllLoss.Rows(new float[1], new int[1], new float[1], new float[1], 1, -1, 1f));
        yield return Case("CpuLstmCell", "hidden", "hidden must be at least 0; got -4.", () => CpuLstmCell.CheckSizes(1, -4));

        // Data, training and sampling.
        var text = CharIds.FromIds([0, 1, 2, 1], 3);
        yield return Case("TextWindowBatchSource", "sequenceLength", "sequenceLength must be at least 1; got 0.", () => _ = new TextWindowBatchSource(text, 0));
        yield return Case("StreamBatchSource", "streams", "streams must be at least 1; got 0.", () => _ = new StreamBatchSource(text, 0, 2));
        yield return Case("SequenceBatchSource", "sequenceLength", "sequenceLength must be at least 2; got 1.", () => _ = new SequenceBatchSource([0, 1, 2, 1], 1));
        yield return Case("CharIds.Slice", "start", "start must be at least 0; got -1.", () => text.Slice(-1, 2));
        yield return Case("NgramVocabulary", "ngramOrder", "ngramOrder must be at least 1; got 0.", () => NgramVocabulary.FromNgrams(0, []));
        yield return Case("ValidationSplit.Tail", "count", "count must be at least 0; got -5.", () => ValidationSplit.Tail(-5));
        yield return Case("CharSequenceDataset", "index", "index must be in [0, 2); got 2.", () => CharSequenceDataset.Create(["ab", "ba"], CharVocabulary.FromTexts(["ab"])).Sequence(2));
        yield return Case("CharSequenceDataset, negative", "index", "index must be in [0, 2); got -1.", () => CharSequenceDataset.Create(["ab", "ba"], CharVocabulary.FromTexts(["ab"])).Sequence(-1));
        yield return Case("TensorBatchSource", "inputShape", "Every size of inputShape must be at least 1; got [2, 0].", () => _ = new TensorBatchSource<float, int>([], [2, 0], [0], [1]));

        // ONNX export.
        yield return Case("OnnxDimension", "size", "size must be at least 0; got -1.", () => OnnxDimension.Fixed(-1));
        yield return Case("OnnxGraphBuilder.Lstm", "numLayers", "numLayers must be at least 1; got 0.", () => new OnnxGraphBuilder(new Dictionary<string, (int[], float[])>()).Lstm("lstm", 0, "x", "h0", "c0"));
        yield return Case("OnnxGraphBuilder.Pad1d", "mode", "Pad1d's mode must be Reflect, Replicate or Circular (zeros are the convolution's own pads); got Zeros.", () => new OnnxGraphBuilder(new Dictionary<string, (int[], float[])>()).Pad1d("pad", "x", 1, 1, PaddingMode.Zeros));
    }

    [TestCaseSource(nameof(Refusals))]
    public void AnArgumentOutOfRangeIsRefusedInOneLineThatNamesIt(string paramName, string message, TestDelegate refused)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(refused)!;
        Assert.That(error.ParamName, Is.EqualTo(paramName));
        Assert.That(error.Message, Does.Not.Contain('\n').And.Contain(paramName), "one line that names the argument");
        Assert.That(error.Message, Is.EqualTo($"{message} (Parameter '{paramName}')"));
    }

    private static TestCaseData Case(string name, string paramName, string message, TestDelegate refused)
        => new TestCaseData(paramName, message, refused).SetArgDisplayNames(name);

    private static void WithSgd(Action<Sgd> use)
    {
        using var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        using var sgd = new Sgd(model.Parameters, 0.1f);
        use(sgd);
    }

    private static void AdamStepZero()
    {
        var device = TestDevices.Get("cpu");
        using var values = device.Zeros(1, 2);
        Ops.AdamStep(values, values, values, values, values, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, amsgrad: false, step: 0);
    }
}
