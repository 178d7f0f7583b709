using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Kernels;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The Conv2d module: Sequential(Conv2d, activation, Flatten, Linear) and a stack of two Conv2d against PyTorch 1.13
/// (fixtures written by scripts/make_conv2d_fixtures.py; see its header) at the tolerances of
/// <see cref="ModuleTorchParityTests"/>, its state_dict and initialisation, 'same' padding, and bad input refused in one
/// line. Its gradients against central finite differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class Conv2dModuleTests
{
    // variant: (C_in, C_out, kernel, stride, padding, dilation, bias, groups, H, W, ReLU or Tanh), as the fixture
    // script's VARIANTS.
    private static readonly Dictionary<string, (int CIn, int COut, Size2d Kernel, Size2d Stride, Conv2dPadding Padding, Size2d Dilation, bool Bias, int Groups, int H, int W, bool Relu)> Variants = new()
    {
        ["plain"] = (3, 4, 3, 1, 0, 1, true, 1, 6, 7, true),
        ["strided"] = (3, 4, (3, 2), 2, (1, 2), 2, true, 1, 9, 8, false),
        ["mixed"] = (2, 3, (2, 3), (3, 1), (2, 0), (1, 2), false, 1, 7, 8, true),
        ["groups2"] = (4, 6, (2, 3), (2, 1), 1, (1, 2), true, 2, 6, 7, false),
        ["same"] = (3, 4, (4, 3), 1, Conv2dPadding.Same, (1, 2), true, 1, 5, 6, false),
    };

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from variant in Variants.Keys
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Cases))]
    public void ASequentialWithAConv2dAndFlattenMatchesPyTorchOutputsGradientsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var v = Variants[variant];
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/conv2d.safetensors"));
        using var model = Model(variant);
        model.Build(device);
        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, variant, [3, v.CIn, v.H, v.W], [3, 2]);
    }

    // Sequential(Conv2d(2, 4, 3, padding 1), ReLU, Conv2d(4, 3, (2, 3), stride 2), ReLU, Flatten, Linear(27, 2)).
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AStackOfTwoConv2dsBeforeFlattenAndLinearMatchesPyTorch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/conv2d.safetensors"));
        using var model = new Sequential(new Conv2d(2, 4, 3, padding: 1), new Relu(), new Conv2d(4, 3, (2, 3), stride: 2), new Relu(), new Flatten(), new Linear(3 * 3 * 3, 2));
        model.Build(device);
        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, "cnn", [3, 2, 6, 7], [3, 2]);
    }

    [Test]
    public void AnOutputSizePastAnIntIsRefusedNamingTheAxisThatOverflows()
    {
        using var tall = new Conv2d(1, 1, 3, padding: (1 << 30, 0));
        using var wide = new Conv2d(1, 1, 3, padding: (0, 1 << 30));
        var height = Assert.Throws<ArgumentOutOfRangeException>(() => tall.OutputSize(4, 4))!;
        var width = Assert.Throws<ArgumentOutOfRangeException>(() => wide.OutputSize(4, 4))!;
        Assert.That((height.ParamName, width.ParamName), Is.EqualTo(("height", "width")));
        Assert.That(width.Message, Does.Contain("H_out × W_out = 2×2147483650, more than int.MaxValue").And.Not.Contain('\n'));
    }

    // Each axis is padded as Conv1d's 'same' pads its one: ⌊reach/2⌋ before, the rest after; 'valid' is 0.
    [Test]
    public void PaddingSameSplitsEachAxissReachWithTheExtraPositionAfterAndValidIsNoPadding()
    {
        using var conv = new Conv2d(2, 2, (4, 3), padding: Conv2dPadding.Same, dilation: (1, 3));
        Assert.That((conv.PaddingTop, conv.PaddingBottom, conv.PaddingLeft, conv.PaddingRight), Is.EqualTo((1, 2, 3, 3)));
        Assert.That(conv.OutputSize(5, 7), Is.EqualTo(new Size2d(5, 7)));
        using var valid = new Conv2d(2, 2, 3, padding: Conv2dPadding.Valid);
        using var pair = new Conv2d(2, 2, 3, padding: (1, 2));
        Assert.That(valid.OutputSize(5, 6), Is.EqualTo(new Size2d(3, 4)));
        Assert.That((pair.PaddingTop, pair.PaddingBottom, pair.PaddingLeft, pair.PaddingRight, pair.OutputSize(5, 6)), Is.EqualTo((1, 1, 2, 2, new Size2d(5, 8))));
        Assert.That((Conv2dPadding.Same.ToString(), Conv2dPadding.Valid.ToString(), pair.Padding.ToString(), ((Size2d)3).ToString()), Is.EqualTo(("'same'", "0", "(1, 2)", "3")));
        Assert.That((pair.KernelSize, pair.Stride, pair.Dilation), Is.EqualTo((new Size2d(3, 3), new Size2d(1, 1), new Size2d(1, 1))), "stride and dilation 1 when left out");
    }

    [Test]
    public void ItsStateDictHasNnConv2dsNamesAndItsWeightsStartAsPyTorchsDraw()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model("groups2");
        model.Build(device, seed: 4);
        var state = model.StateDict();
        Assert.That(state.Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "3.weight", "3.bias" }));
        Assert.That(state["0.weight"].Shape, Is.EqualTo(new[] { 6, 2, 2, 3 }));
        Assert.That(state["0.bias"].Shape, Is.EqualTo(new[] { 6 }));

        // kaiming_uniform_(a=√5) over fan_in = C_in/groups·kH·kW = 12, and the bias from the same bound: U(−1/√12, 1/√12),
        // wider than the U(−1/√24, 1/√24) a fan_in of C_in·kH·kW would give.
        foreach (var name in new[] { "0.weight", "0.bias" })
        {
            Assert.That(state[name].Data, Is.All.InRange(-1 / Math.Sqrt(12), 1 / Math.Sqrt(12)), name);
        }

        Assert.That(state["0.weight"].Data.Max(Math.Abs), Is.GreaterThan(1 / Math.Sqrt(24)), "the weight spreads past C_in·kH·kW's bound");
        using var noBias = Model("mixed");
        noBias.Build(device);
        Assert.That(noBias.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "3.weight", "3.bias" }));
        Assert.That(((Conv2d)noBias[0]).Bias, Is.Null);
    }

    // The weight [4, 3, 3, 2] as PyTorch saved it loads and gives PyTorch's output; saved again, the file has PyTorch's
    // names, dtypes and shapes, and loads into a fresh model that gives the same output.
    [Test]
    public void AStateDictSavedByPyTorchLoadsAndRoundTripsThroughSafetensors()
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/conv2d.safetensors"));
        string torchPath = TestData.Fixture("torch/conv2d_state.safetensors");
        using var model = Model("strided");
        model.Build(device, seed: 8);
        ModuleCheckpoint.Load(model, torchPath);
        using var x = device.FromArray(fixture["strided.x"].Data, 3, 3, 9, 8);
        var expected = model.Forward(x).ToArray();
        ModuleTorchParityTests.AssertClose(expected, fixture["strided.output"].Data, 1e-5, "output of the PyTorch state_dict");

        using var loaded = Model("strided");
        loaded.Build(device, seed: 9);
        ModuleTorchParityTests.AssertSavesAsPyTorchsFileAndLoadsInto(model, torchPath, loaded);
        Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(expected));
    }

    // A batch is put group-major by a gather of rows, which one sample does without: each sample alone gives its rows
    // of the batch's output and input gradient, and the batch's weight gradient is the samples' sum.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AGroupedConv2dGivesEachSampleAloneWhatItGivesItInABatch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var conv = new Conv2d(4, 6, (2, 3), stride: (2, 1), padding: 1, groups: 2);
        conv.Build(device, seed: 2);
        const int n = 3, sample = 4 * 5 * 6;
        var xData = Enumerable.Range(0, n * sample).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        using var x = device.FromArray(xData, n, 4, 5, 6);
        var y = conv.Forward(x);
        var outSample = (int)(y.Length / n);
        var dyData = Enumerable.Range(0, (int)y.Length).Select(i => MathF.Cos(i * 0.21f)).ToArray();
        using var dy = device.FromArray(dyData, y.Shape.ToArray());
        var batchY = y.ToArray();
        conv.Parameters.ZeroGradients();
        var batchDx = conv.Backward(dy).ToArray();
        var batchGradients = conv.Parameters.Gradients.ToArray();
        conv.Parameters.ZeroGradients();
        for (int i = 0; i < n; i++)
        {
            using var one = device.FromArray(xData[(i * sample)..((i + 1) * sample)], 1, 4, 5, 6);
            var oneY = conv.Forward(one);
            ModuleTorchParityTests.AssertClose(oneY.ToArray(), batchY[(i * outSample)..((i + 1) * outSample)], 1e-6, $"y of sample {i}");
            using var oneDy = device.FromArray(dyData[(i * outSample)..((i + 1) * outSample)], oneY.Shape.ToArray());
            ModuleTorchParityTests.AssertClose(conv.Backward(oneDy).ToArray(), batchDx[(i * sample)..((i + 1) * sample)], 1e-6, $"dx of sample {i}");
        }

        ModuleTorchParityTests.AssertClose(conv.Parameters.Gradients.ToArray(), batchGradients, 1e-5, "gradients summed over the samples");
    }

    [Test]
    public void BadInputIsRefusedInOneLineAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var conv = new Conv2d(3, 2, (3, 2), padding: (1, 0), dilation: 2);
        conv.Build(device);
        using var gradient = device.Zeros(1, 2, 4, 4);
        Assert.Throws<InvalidOperationException>(() => conv.Backward(gradient), "Backward before Forward");

        void Refused(Tensor input, params string[] named)
        {
            var e = Assert.Throws<ArgumentException>(() => conv.Forward(input))!;
            Assert.That(e.Message, Does.Contain(input.ShapeText).And.Not.Contain('\n'));
            foreach (var part in named)
            {
                Assert.That(e.Message, Does.Contain(part));
            }
        }

        using var rank3 = device.Zeros(2, 3, 8);
        using var wrongChannels = device.Zeros(2, 4, 8, 8);
        using var tooShort = device.Zeros(2, 3, 2, 8);
        using var tooNarrow = device.Zeros(2, 3, 8, 2);
        using var empty = device.Zeros(2, 3, 0, 8);
        Refused(rank3, "Conv2d(3, 2, kernel (3, 2), stride 1, padding (1, 0), dilation 2) takes input [N, 3, H, W]");
        Refused(wrongChannels, "[N, 3, H, W]");
        Refused(tooShort, "at least 3×3");
        Refused(tooNarrow, "at least 3×3");
        Refused(empty, "H and W at least 1");

        using var smallest = device.Zeros(2, 3, 3, 3);
        Assert.That(conv.Forward(smallest).Shape, Is.EqualTo(new[] { 2, 2, 1, 1 }), "3×3 with padding (1, 0) fits the 5×3 dilated kernel once");

        foreach (var (make, name) in new (TestDelegate, string)[]
        {
            (() => _ = new Conv2d(0, 2, 3), "inChannels"),
            (() => _ = new Conv2d(3, -1, 3), "outChannels"),
            (() => _ = new Conv2d(3, 2, (3, 0)), "kernelSize"),
            (() => _ = new Conv2d(3, 2, 3, stride: (0, 1)), "stride"),
            (() => _ = new Conv2d(3, 2, 3, padding: (0, -1)), "padding"),
            (() => _ = new Conv2d(3, 2, 3, dilation: -2), "dilation"),
            (() => _ = new Conv2d(3, 3, 3, groups: 0), "groups"),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(make)!;
            Assert.That(e.Message, Does.Contain(name).And.Not.Contain('\n'));
        }

        foreach (var (cIn, cOut, groups, which) in new[] { (6, 4, 4, "inChannels is not"), (4, 6, 4, "outChannels is not"), (3, 5, 2, "neither is") })
        {
            var e = Assert.Throws<ArgumentException>(() => _ = new Conv2d(cIn, cOut, 3, groups: groups))!;
            Assert.That(e.Message, Does.StartWith($"A Conv2d's inChannels ({cIn}) and outChannels ({cOut}) must both be divisible by groups ({groups}); {which}.").And.Not.Contain('\n'));
            Assert.That(e.ParamName, Is.EqualTo("groups"));
        }

        // As torch.nn.Conv2d: "padding='same' is not supported for strided convolutions", on either axis.
        var same = Assert.Throws<ArgumentException>(() => _ = new Conv2d(2, 2, 3, stride: (1, 2), padding: Conv2dPadding.Same))!;
        Assert.That(same.Message, Does.StartWith("A Conv2d's padding 'same' needs stride 1").And.Contain("got stride (1, 2)").And.Not.Contain('\n'));
        Assert.That(same.ParamName, Is.EqualTo("padding"));

        Assert.That(conv.Forward(smallest).Shape, Is.EqualTo(new[] { 2, 2, 1, 1 }), "the layer goes on");
    }

    private static Sequential Model(string variant)
    {
        var v = Variants[variant];
        var conv = new Conv2d(v.CIn, v.COut, v.Kernel, v.Stride, v.Padding, v.Dilation, v.Bias, v.Groups);
        var size = conv.OutputSize(v.H, v.W);
        return new Sequential(conv, v.Relu ? new Relu() : new Tanh(), new Flatten(), new Linear(v.COut * size.Height * size.Width, 2));
    }
}
