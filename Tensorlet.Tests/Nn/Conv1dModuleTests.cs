using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Kernels;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The Conv1d module: Sequential(Conv1d, activation, Flatten, Linear) against PyTorch 1.13 (fixtures written by
/// scripts/make_conv1d_fixtures.py, scripts/make_conv1d_padding_fixtures.py and scripts/make_conv1d_depthwise_fixtures.py;
/// see their headers), with groups = 1, grouped and depthwise, padding='same' and each padding mode, at the tolerances of
/// <see cref="ModuleTorchParityTests"/>, its state_dict and initialisation, and bad input refused in one line. Its gradients against central finite differences
/// are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class Conv1dModuleTests
{
    // variant: (C_in, C_out, k, stride, padding, dilation, bias, L, groups), as the fixture script's VARIANTS and
    // GROUPS; the grouped ones are in conv1d_groups.safetensors.
    private static readonly Dictionary<string, (int CIn, int COut, int K, int Stride, int Padding, int Dilation, bool Bias, int L, int Groups)> Variants = new()
    {
        ["plain"] = (3, 4, 3, 1, 0, 1, true, 10, 1),
        ["strided"] = (3, 4, 3, 2, 1, 2, true, 11, 1),
        ["no_bias"] = (2, 3, 2, 3, 2, 1, false, 7, 1),
        ["groups2"] = (4, 6, 3, 2, 1, 2, true, 11, 2),
        ["groups4"] = (8, 4, 2, 3, 2, 1, false, 10, 4),
        ["depthwise"] = (5, 5, 3, 1, 2, 2, true, 9, 5),
    };

    // variant: (C_in, C_out, k, stride, padding, dilation, bias, L, groups, padding mode), as
    // scripts/make_conv1d_padding_fixtures.py's VARIANTS (Tanh, or ReLU where ReluVariants says), in conv1d_padding.safetensors.
    private static readonly Dictionary<string, (int CIn, int COut, int K, int Stride, Conv1dPadding Padding, int Dilation, bool Bias, int L, int Groups, PaddingMode Mode)> PaddingVariants = new()
    {
        ["same_odd"] = (3, 4, 3, 1, Conv1dPadding.Same, 1, true, 10, 1, PaddingMode.Zeros),
        ["same_even"] = (3, 4, 4, 1, Conv1dPadding.Same, 1, true, 9, 1, PaddingMode.Zeros),
        ["same_dilated_groups"] = (4, 6, 2, 1, Conv1dPadding.Same, 3, false, 8, 2, PaddingMode.Zeros),
        ["reflect"] = (3, 4, 3, 1, 2, 1, true, 7, 1, PaddingMode.Reflect),
        ["reflect_groups"] = (4, 6, 3, 2, 3, 2, true, 4, 2, PaddingMode.Reflect),
        ["replicate"] = (3, 4, 3, 1, 4, 1, false, 5, 1, PaddingMode.Replicate),
        ["replicate_depthwise"] = (5, 5, 3, 1, 2, 1, true, 1, 5, PaddingMode.Replicate),
        ["circular"] = (3, 4, 3, 1, 5, 1, true, 5, 1, PaddingMode.Circular),
        ["circular_same_groups"] = (4, 4, 2, 1, Conv1dPadding.Same, 3, true, 6, 2, PaddingMode.Circular),
        ["reflect_same_even"] = (3, 4, 4, 1, Conv1dPadding.Same, 1, true, 6, 1, PaddingMode.Reflect),
    };

    // variant: as PaddingVariants, from scripts/make_conv1d_depthwise_fixtures.py's VARIANTS, in
    // conv1d_depthwise.safetensors: depthwise layers (groups = C_in), which run the direct kernel.
    private static readonly Dictionary<string, (int CIn, int COut, int K, int Stride, Conv1dPadding Padding, int Dilation, bool Bias, int L, int Groups, PaddingMode Mode)> DepthwiseVariants = new()
    {
        ["multiplier2"] = (4, 8, 3, 2, 1, 2, true, 11, 4, PaddingMode.Zeros),
        ["multiplier3"] = (3, 9, 2, 3, 2, 1, false, 10, 3, PaddingMode.Zeros),
        ["wide_kernel"] = (3, 3, 7, 1, 3, 1, true, 4, 3, PaddingMode.Zeros),
        ["same_reflect"] = (4, 8, 4, 1, Conv1dPadding.Same, 1, true, 9, 4, PaddingMode.Reflect),
        ["circular_dilated"] = (2, 2, 5, 1, 3, 2, true, 4, 2, PaddingMode.Circular),
    };

    private static readonly string[] ReluVariants = ["same_even", "replicate", "reflect_same_even", "multiplier3"];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from variant in Variants.Keys
        select new TestCaseData(device, variant);

    private static IEnumerable<TestCaseData> PaddingCases() =>
        from device in TestDevices.All
        from variant in PaddingVariants.Keys.Concat(DepthwiseVariants.Keys)
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Cases))]
    public void ASequentialWithAConv1dAndFlattenMatchesPyTorchOutputsGradientsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var v = Variants[variant];
        var fixture = SafeTensorsFile.Read(TestData.Fixture(v.Groups == 1 ? "torch/conv1d.safetensors" : "torch/conv1d_groups.safetensors"));
        using var model = Model(variant);
        model.Build(device);
        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, variant, [3, v.CIn, v.L], [3, 2]);
    }

    // Also the depthwise layers of conv1d_depthwise.safetensors: multipliers, strides, kernels wider than x, padding modes.
    [TestCaseSource(nameof(PaddingCases))]
    public void PaddingSameAndThePaddingModesMatchPyTorchOutputsGradientsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var (v, file) = PaddingVariant(variant);
        var fixture = SafeTensorsFile.Read(TestData.Fixture(file));
        using var model = PaddingModel(variant);
        model.Build(device);
        if (v.Padding.IsSame)
        {
            Assert.That(((Conv1d)model[0]).OutputLength(v.L), Is.EqualTo(v.L), "'same' keeps the length");
        }

        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, variant, [3, v.CIn, v.L], [3, 2]);
    }

    // PyTorch splits the reach dilation·(k − 1) as ⌊reach/2⌋ before the input and the rest after it; 'valid' is 0.
    [Test]
    public void PaddingSameSplitsTheReachWithTheExtraPositionOnTheRightAndValidIsNoPadding()
    {
        foreach (var (k, dilation, left, right) in new[] { (1, 1, 0, 0), (2, 1, 0, 1), (3, 1, 1, 1), (4, 1, 1, 2), (3, 2, 2, 2), (2, 3, 1, 2), (4, 3, 4, 5) })
        {
            using var conv = new Conv1d(2, 2, k, padding: Conv1dPadding.Same, dilation: dilation);
            Assert.That((conv.PaddingLeft, conv.PaddingRight), Is.EqualTo((left, right)), $"k {k}, dilation {dilation}");
            Assert.That(conv.OutputLength(5), Is.EqualTo(5));
            Assert.That(conv.Padding.IsSame, Is.True);
        }

        using var valid = new Conv1d(2, 2, 3, padding: Conv1dPadding.Valid);
        using var three = new Conv1d(2, 2, 3, padding: 3);
        Assert.That((valid.PaddingLeft, valid.PaddingRight, valid.OutputLength(5)), Is.EqualTo((0, 0, 3)));
        Assert.That(valid.Padding, Is.EqualTo((Conv1dPadding)0));
        Assert.That((three.Padding.Amount, three.PaddingLeft, three.PaddingRight), Is.EqualTo((3, 3, 3)));
        Assert.That((Conv1dPadding.Same.ToString(), Conv1dPadding.Valid.ToString(), three.Padding.ToString()), Is.EqualTo(("'same'", "0", "3")));
    }

    // As torch.nn.Conv1d: "padding='same' is not supported for strided convolutions".
    [Test]
    public void PaddingSameWithAStrideIsRefusedInOneLine()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = new Conv1d(2, 2, 3, stride: 2, padding: Conv1dPadding.Same))!;
        Assert.That(e.Message, Does.StartWith("A Conv1d's padding 'same' needs stride 1").And.Contain("got stride 2").And.Not.Contain('\n'));
        Assert.That(e.ParamName, Is.EqualTo("padding"));
        using var conv = new Conv1d(2, 3, 4, padding: Conv1dPadding.Same);
        conv.Build(TestDevices.Get("cpu"));
        using var wrong = TestDevices.Get("cpu").Zeros(1, 3, 5);
        Assert.That(Assert.Throws<ArgumentException>(() => conv.Forward(wrong))!.Message, Does.StartWith("Conv1d(2, 3, kernel 4, stride 1, padding 'same', dilation 1) takes input [N, 2, L]"));
    }

    // The index map of a padding mode follows the input: lengths 7, 4, 7 and batches 2, 3 in turn through one layer give
    // what a fresh layer with the same weights gives each, outputs and input gradients.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void APaddingModeFollowsTheInputsLengthAndBatchFromCallToCall(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var mode in new[] { PaddingMode.Reflect, PaddingMode.Replicate, PaddingMode.Circular })
        {
            using var conv = new Conv1d(4, 6, 3, padding: 3, groups: 2, paddingMode: mode);
            conv.Build(device, seed: 3);
            var weights = conv.StateDict();
            foreach (var (n, length) in new[] { (2, 7), (2, 4), (3, 4), (2, 7) })
            {
                using var fresh = new Conv1d(4, 6, 3, padding: 3, groups: 2, paddingMode: mode);
                fresh.Build(device);
                fresh.LoadStateDict(weights);
                var xData = Enumerable.Range(0, n * 4 * length).Select(i => MathF.Sin(0.9f * i)).ToArray();
                var dyData = Enumerable.Range(0, n * 6 * (length + 4)).Select(i => MathF.Cos(0.4f * i)).ToArray();
                using var x = device.FromArray(xData, n, 4, length);
                using var dy = device.FromArray(dyData, n, 6, length + 4);
                using var dyCopy = device.FromArray(dyData, n, 6, length + 4);
                Assert.That(conv.Forward(x).ToArray(), Is.EqualTo(fresh.Forward(x).ToArray()), $"{mode}: y at [{n}, 4, {length}]");
                // The scatter of dx adds by atomics on the ILGPU devices, in no fixed order.
                ModuleTorchParityTests.AssertClose(conv.Backward(dy).ToArray(), fresh.Backward(dyCopy).ToArray(), 1e-6, $"{mode}: dx at [{n}, 4, {length}]");
            }
        }
    }

    // As torch.nn.functional.pad: reflect needs each side's padding below L, circular at most L (one wrap); replicate
    // takes any. The refusal comes before anything is written, and the layer goes on.
    [Test]
    public void APaddingTooWideForItsModeIsRefusedInOneLineAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var reflect = new Conv1d(2, 2, 3, padding: 3, paddingMode: PaddingMode.Reflect);
        using var circular = new Conv1d(2, 2, 3, padding: 3, paddingMode: PaddingMode.Circular);
        using var replicate = new Conv1d(2, 2, 3, padding: 3, paddingMode: PaddingMode.Replicate);
        using var reflectSame = new Conv1d(2, 2, 4, padding: Conv1dPadding.Same, paddingMode: PaddingMode.Reflect);
        foreach (var conv in new[] { reflect, circular, replicate, reflectSame })
        {
            conv.Build(device, seed: 2);
        }

        using var three = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 2, 3);
        using var two = device.FromArray([1f, 2f, 3f, 4f], 1, 2, 2);
        using var four = device.FromArray([.. Enumerable.Range(0, 8).Select(i => (float)i)], 1, 2, 4);
        var before = reflect.Forward(four).ToArray();
        var e = Assert.Throws<ArgumentException>(() => reflect.Forward(three))!;
        Assert.That(e.Message, Does.StartWith("Conv1d(2, 2, kernel 3, stride 1, padding 3, dilation 1, padding mode Reflect) pads by reflection, which needs each side's padding below the input length (3 before, 3 after) but got a tensor of shape [1, 2, 3].").And.Not.Contain('\n'));
        Assert.That(reflect.Forward(four).ToArray(), Is.EqualTo(before), "the layer goes on");

        Assert.That(circular.Forward(three).Shape, Is.EqualTo(new[] { 1, 2, 7 }), "circular takes padding L");
        e = Assert.Throws<ArgumentException>(() => circular.Forward(two))!;
        Assert.That(e.Message, Does.Contain("padding mode Circular) pads circularly, which wraps around at most once").And.Contain("(3 before, 3 after)").And.Contain("[1, 2, 2]").And.Not.Contain('\n'));
        Assert.That(replicate.Forward(two).Shape, Is.EqualTo(new[] { 1, 2, 6 }), "replicate takes any padding");

        // 'same' for k 4 pads 1 before and 2 after: L = 2 is too short to reflect 2 positions, L = 3 is not.
        e = Assert.Throws<ArgumentException>(() => reflectSame.Forward(two))!;
        Assert.That(e.Message, Does.Contain("padding 'same'").And.Contain("(1 before, 2 after)").And.Not.Contain('\n'));
        Assert.That(reflectSame.Forward(three).Shape, Is.EqualTo(new[] { 1, 2, 3 }));

        var undefined = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Conv1d(2, 2, 3, paddingMode: (PaddingMode)7))!;
        Assert.That(undefined.Message, Does.StartWith("A Conv1d's paddingMode must be Zeros, Reflect, Replicate or Circular; got 7.").And.Not.Contain('\n'));
        Assert.That(undefined.ParamName, Is.EqualTo("paddingMode"));
    }

    [Test]
    public void ItsStateDictHasNnConv1dsNamesAndItsWeightsStartAsPyTorchsDraw()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model("strided");
        model.Build(device, seed: 4);
        var state = model.StateDict();
        Assert.That(state.Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "3.weight", "3.bias" }));
        Assert.That(state["0.weight"].Shape, Is.EqualTo(new[] { 4, 3, 3 }));
        Assert.That(state["0.bias"].Shape, Is.EqualTo(new[] { 4 }));

        // kaiming_uniform_(a=√5) over fan_in = C_in·k = 9, and the bias from the same bound: U(−1/3, 1/3).
        foreach (var name in new[] { "0.weight", "0.bias" })
        {
            var values = state[name].Data;
            Assert.That(values, Is.All.InRange(-1f / 3, 1f / 3), name);
            Assert.That(values.Max() - values.Min(), Is.GreaterThan(0.2f), $"{name} spreads over its range");
        }

        using var noBias = Model("no_bias");
        noBias.Build(device);
        Assert.That(noBias.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "3.weight", "3.bias" }));
        Assert.That(((Conv1d)noBias[0]).Bias, Is.Null);
    }

    // nn.Conv1d(4, 6, 3, groups=2): weight [C_out, C_in/groups, k] = [6, 2, 3], drawn over fan_in = C_in/groups·k = 6.
    [Test]
    public void AGroupedConv1dsWeightIsCOutByCInOverGroupsByKDrawnOverItsGroupsFanIn()
    {
        using var model = Model("groups2");
        model.Build(TestDevices.Get("cpu"), seed: 4);
        var conv = (Conv1d)model[0];
        Assert.That(conv.Groups, Is.EqualTo(2));
        var state = model.StateDict();
        Assert.That(state.Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "3.weight", "3.bias" }));
        Assert.That(state["0.weight"].Shape, Is.EqualTo(new[] { 6, 2, 3 }));
        Assert.That(state["0.bias"].Shape, Is.EqualTo(new[] { 6 }));

        // U(−1/√6, 1/√6), wider than the U(−1/√12, 1/√12) a fan_in of C_in·k would give.
        foreach (var name in new[] { "0.weight", "0.bias" })
        {
            var values = state[name].Data;
            Assert.That(values, Is.All.InRange(-1 / Math.Sqrt(6), 1 / Math.Sqrt(6)), name);
        }

        Assert.That(state["0.weight"].Data.Max(Math.Abs), Is.GreaterThan(1 / Math.Sqrt(12)), "the weight spreads past C_in·k's bound");
        using var depthwise = new Conv1d(5, 5, 3, groups: 5);
        using var ungrouped = new Conv1d(5, 5, 3);
        Assert.That((depthwise.Groups, ungrouped.Groups), Is.EqualTo((5, 1)));
    }

    // The grouped weight [6, 2, 3] as PyTorch saved it loads and gives PyTorch's output; saved again, the file has
    // PyTorch's names, dtypes and shapes, and loads into a fresh model that gives the same output.
    [Test]
    public void AGroupedStateDictSavedByPyTorchLoadsAndRoundTripsThroughSafetensors()
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/conv1d_groups.safetensors"));
        string torchPath = TestData.Fixture("torch/conv1d_groups_state.safetensors");
        using var model = Model("groups2");
        model.Build(device, seed: 8);
        ModuleCheckpoint.Load(model, torchPath);
        using var x = device.FromArray(fixture["groups2.x"].Data, 3, 4, 11);
        var expected = model.Forward(x).ToArray();
        ModuleTorchParityTests.AssertClose(expected, fixture["groups2.output"].Data, 1e-5, "output of the PyTorch state_dict");

        using var loaded = Model("groups2");
        loaded.Build(device, seed: 9);
        ModuleTorchParityTests.AssertSavesAsPyTorchsFileAndLoadsInto(model, torchPath, loaded);
        Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void AStateDictSavedByPyTorchLoadsAndGivesItsOutput()
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/conv1d.safetensors"));
        using var model = Model("strided");
        model.Build(device, seed: 8);
        ModuleCheckpoint.Load(model, TestData.Fixture("torch/conv1d_state.safetensors"));
        using var x = device.FromArray(fixture["strided.x"].Data, 3, 3, 11);
        ModuleTorchParityTests.AssertClose(model.Forward(x).ToArray(), fixture["strided.output"].Data, 1e-5, "output of the PyTorch state_dict");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TheOutputBufferIsReusedAGradientAsRowsIsTakenAndParameterGradientsAccumulate(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var conv = new Conv1d(2, 3, 2, stride: 2);
        conv.Build(device, seed: 1);
        using var x = device.FromArray([.. Enumerable.Range(0, 2 * 2 * 6).Select(i => MathF.Sin(i))], 2, 2, 6);
        var y = conv.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, 3 }));
        Assert.That(conv.Forward(x), Is.SameAs(y), "the output buffer is reused");

        var dyData = Enumerable.Range(0, 18).Select(i => MathF.Cos(i)).ToArray();
        using var dy = device.FromArray(dyData, 2, 3, 3);
        conv.Parameters.ZeroGradients();
        var expectedDx = conv.Backward(dy).ToArray();
        var expectedGradients = conv.Parameters.Gradients.ToArray();
        using var dyRows = device.FromArray(dyData, 6, 3);
        conv.Parameters.ZeroGradients();
        Assert.That(conv.Backward(dyRows).ToArray(), Is.EqualTo(expectedDx));
        Assert.That(conv.Parameters.Gradients.ToArray(), Is.EqualTo(expectedGradients));

        // The weight and bias gradients accumulate; dx does not.
        Assert.That(conv.Backward(dy).ToArray(), Is.EqualTo(expectedDx));
        Assert.That(conv.Parameters.Gradients.ToArray(), Is.EqualTo(expectedGradients.Select(g => 2 * g).ToArray()));
    }

    // A batch is put group-major by a gather of rows, which one sample does without: each sample alone gives its rows
    // of the batch's output, input gradient and (summed) weight and bias gradients, with batches of 3, 1 and 2 in turn.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AGroupedConv1dGivesEachSampleAloneWhatItGivesItInABatch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 3, inChannels = 6, outChannels = 9, length = 8;
        using var conv = new Conv1d(inChannels, outChannels, 3, stride: 2, padding: 1, groups: 3);
        conv.Build(device, seed: 5);
        int outLength = conv.OutputLength(length);
        var xData = Enumerable.Range(0, n * inChannels * length).Select(i => MathF.Sin(0.7f * i)).ToArray();
        var dyData = Enumerable.Range(0, n * outChannels * outLength).Select(i => MathF.Cos(0.3f * i)).ToArray();

        (float[] Y, float[] Dx, float[] Gradients) Run(int first, int count)
        {
            using var x = device.FromArray(xData.AsSpan(first * inChannels * length, count * inChannels * length).ToArray(), count, inChannels, length);
            using var dy = device.FromArray(dyData.AsSpan(first * outChannels * outLength, count * outChannels * outLength).ToArray(), count, outChannels, outLength);
            conv.Parameters.ZeroGradients();
            var y = conv.Forward(x).ToArray();
            return (y, conv.Backward(dy).ToArray(), conv.Parameters.Gradients.ToArray());
        }

        var batch = Run(0, n);
        var gradients = new double[batch.Gradients.Length];
        foreach (int i in new[] { 0, 2, 1 })
        {
            var one = Run(i, 1);
            ModuleTorchParityTests.AssertClose(one.Y, batch.Y.AsSpan(i * outChannels * outLength, outChannels * outLength).ToArray(), 1e-5, $"y of sample {i}");
            ModuleTorchParityTests.AssertClose(one.Dx, batch.Dx.AsSpan(i * inChannels * length, inChannels * length).ToArray(), 1e-5, $"dx of sample {i}");
            for (int j = 0; j < gradients.Length; j++)
            {
                gradients[j] += one.Gradients[j];
            }
        }

        ModuleTorchParityTests.AssertClose(Array.ConvertAll(gradients, g => (float)g), batch.Gradients, 1e-5, "the samples' gradients summed");
        var two = Run(1, 2);
        ModuleTorchParityTests.AssertClose(two.Y, batch.Y.AsSpan(outChannels * outLength).ToArray(), 1e-5, "y of samples 1 and 2");
        ModuleTorchParityTests.AssertClose(two.Dx, batch.Dx.AsSpan(inChannels * length).ToArray(), 1e-5, "dx of samples 1 and 2");
    }

    // An empty batch (N = 0), which PyTorch takes: an empty output and input gradient and no change to the parameter
    // gradients, grouped or not, through two backward passes (every group's empty slice is the same empty operand).
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AnEmptyBatchGivesEmptyResultsAndLeavesTheGradients(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int groups in new[] { 1, 3 })
        {
            using var conv = new Conv1d(6, 9, 3, padding: 1, groups: groups);
            conv.Build(device, seed: 6);
            conv.Parameters.ZeroGradients();
            using var x = device.Zeros(0, 6, 5);
            using var dy = device.Zeros(0, 9, 5);
            for (int pass = 0; pass < 2; pass++)
            {
                Assert.That(conv.Forward(x).Shape.ToArray(), Is.EqualTo(new[] { 0, 9, 5 }), $"groups {groups}");
                Assert.That(conv.Backward(dy).Shape.ToArray(), Is.EqualTo(new[] { 0, 6, 5 }), $"groups {groups}");
            }

            Assert.That(conv.Parameters.Gradients.ToArray(), Is.All.EqualTo(0f), $"groups {groups}");
        }
    }

    [Test]
    public void BadInputIsRefusedInOneLineAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var conv = new Conv1d(3, 2, 3, padding: 1, dilation: 2);
        conv.Build(device);
        using var gradient = device.Zeros(1, 2, 4);
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

        using var rank2 = device.Zeros(3, 8);
        using var wrongChannels = device.Zeros(2, 4, 8);
        using var tooShort = device.Zeros(2, 3, 2);
        Refused(rank2, "[N, 3, L]");
        Refused(wrongChannels, "[N, 3, L]");
        Refused(tooShort, "at least 3");

        // As torch.nn.Conv1d: no positions is refused even where the padding alone would give an output.
        using var pointwise = new Conv1d(3, 2, 1, padding: 1);
        pointwise.Build(device);
        using var empty = device.Zeros(2, 3, 0);
        var noPositions = Assert.Throws<ArgumentException>(() => pointwise.Forward(empty))!;
        Assert.That(noPositions.Message, Does.Contain("L at least 1").And.Contain("[2, 3, 0]").And.Not.Contain('\n'));

        using var shortest = device.Zeros(2, 3, 3);
        Assert.That(conv.Forward(shortest).Shape, Is.EqualTo(new[] { 2, 2, 1 }), "L = 3 with padding 1 fits the 5-wide kernel once");

        foreach (var (make, name) in new (TestDelegate, string)[]
        {
            (() => _ = new Conv1d(0, 2, 3), "inChannels"),
            (() => _ = new Conv1d(3, -1, 3), "outChannels"),
            (() => _ = new Conv1d(3, 2, 0), "kernelSize"),
            (() => _ = new Conv1d(3, 2, 3, stride: 0), "stride"),
            (() => _ = new Conv1d(3, 2, 3, padding: -1), "padding"),
            (() => _ = new Conv1d(3, 2, 3, dilation: 0), "dilation"),
            (() => _ = new Conv1d(3, 3, 3, groups: 0), "groups"),
            (() => _ = new Conv1d(3, 3, 3, groups: -3), "groups"),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(make)!;
            Assert.That(e.Message, Does.Contain(name).And.Not.Contain('\n'));
        }

        // As torch.nn.Conv1d, both channel counts must be multiples of the groups; the message names both.
        foreach (var (cIn, cOut, groups, which) in new[] { (6, 4, 4, "inChannels is not"), (4, 6, 4, "outChannels is not"), (3, 5, 2, "neither is") })
        {
            var e = Assert.Throws<ArgumentException>(() => _ = new Conv1d(cIn, cOut, 3, groups: groups))!;
            Assert.That(e.Message, Does.StartWith($"A Conv1d's inChannels ({cIn}) and outChannels ({cOut}) must both be divisible by groups ({groups}); {which}.").And.Not.Contain('\n'));
            Assert.That(e.ParamName, Is.EqualTo("groups"));
        }

        using var grouped = new Conv1d(4, 6, 3, groups: 2);
        grouped.Build(device);
        using var threeChannels = device.Zeros(1, 3, 8);
        Assert.That(Assert.Throws<ArgumentException>(() => grouped.Forward(threeChannels))!.Message, Does.StartWith("Conv1d(4, 6, kernel 3, stride 1, padding 0, dilation 1, groups 2) takes input [N, 4, L]"));
    }

    // A depthwise layer (groups = C_in, one or two outputs per channel, with stride, padding, dilation, 'same' and a
    // padding mode) runs the direct kernel, forward and backward, and no GEMM or unfold; the same layer through the
    // grouped GEMMs (the benchmark's comparison) gives the same output, gradients and dx but for the order of the sums.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ADepthwiseConv1dRunsItsDirectKernelAndMatchesTheGroupedGemms(string deviceName)
    {
        // A device of its own, so that the recorder sees this test's kernels alone.
        if (deviceName == "cuda" && !Device.IsCudaAvailable)
        {
            Assert.Ignore("No CUDA GPU on this machine: the cuda variant of this test is skipped.");
        }

        using var device = Device.Create(deviceName);
        foreach (var (cOut, k, stride, padding, dilation, mode) in new[]
        {
            (4, 3, 1, (Conv1dPadding)1, 1, PaddingMode.Zeros), (8, 3, 2, (Conv1dPadding)2, 2, PaddingMode.Zeros), (8, 4, 1, Conv1dPadding.Same, 1, PaddingMode.Reflect),
        })
        {
            Conv1d Layer(bool gemm) => new(4, cOut, k, stride, padding, dilation, groups: 4, paddingMode: mode) { DepthwiseByGemm = gemm };
            using var direct = Layer(gemm: false);
            using var grouped = Layer(gemm: true);
            direct.Build(device, seed: 3);
            grouped.Build(device, seed: 3);
            int length = 13, outLength = direct.OutputLength(length);
            using var x = device.FromArray(ElementwiseTestData.Uniform(3 * 4 * length, 1), 3, 4, length);
            using var dy = device.FromArray(ElementwiseTestData.Uniform(3 * cOut * outLength, 2), 3, cOut, outLength);
            string what = $"C_out {cOut}, k {k}, stride {stride}, padding {padding}, dilation {dilation}, {mode}";

            KernelCallRecorder? recorder = null;
            float[] y, dx;
            using (device.InterceptKernels(inner => recorder = new KernelCallRecorder(inner)))
            {
                y = direct.Forward(x).ToArray();
                dx = direct.Backward(dy).ToArray();
            }

            Assert.That(recorder!.Calls.Where(call => call.StartsWith("Depthwise", StringComparison.Ordinal)), Is.EqualTo(new[] { "DepthwiseConv1d", "DepthwiseConv1dBackwardWeight", "DepthwiseConv1dBackwardInput" }), what);
            Assert.That(recorder.Calls, Has.None.Contains("Gemm").And.None.Contains("Unfold").And.None.Contains("Fold1d"), what);
            ModuleTorchParityTests.AssertClose(y, grouped.Forward(x).ToArray(), 1e-5, $"y, {what}");
            ModuleTorchParityTests.AssertClose(dx, grouped.Backward(dy).ToArray(), 1e-5, $"dx, {what}");
            ModuleTorchParityTests.AssertClose(direct.Parameters.Gradients.ToArray(), grouped.Parameters.Gradients.ToArray(), 1e-5, $"gradients, {what}");
        }
    }

    // Each case's first size over its limit, in long: an int would wrap L_out to a small or negative length, or size a
    // GEMM whose tile arithmetic overflows. The refusal comes before any buffer is allocated. A depthwise layer (C_in = 1
    // here) runs no GEMM, so only L_out and its tensors' sizes hold it: N·L_out past a GEMM's rows is refused for its
    // output.
    [Test]
    public void SizesPastWhatTheGemmAndItsTensorsTakeAreRefusedInOneLineNamingTheLayer()
    {
        var device = TestDevices.Get("cpu");
        foreach (var (cIn, cOut, padding, shape, size) in new (int, int, int, int[], string)[]
        {
            (1, 1, int.MaxValue, [1, 1, 13], "L_out = 4294967307,"),
            (1, 1, 1_500_000_000, [1, 1, 1], "L_out = 3000000001,"),
            (2, 1, (1 << 30) - 1, [2, 2, 1], "N·L_out = 4294967294 rows"),
            (2, 1, (1 << 30) - 1, [1, 2, 1], "N·L_out = 2147483647 rows"),
            (1, 1, (1 << 30) - 1, [2, 1, 1], "N·C_out·L_out = 4294967294 values for the output"),
            (4, 1, 1 << 29, [1, 4, 1], "N·L_out·C_in·k = 4294967300 values for the unfolded input"),
            (1, 4, 1 << 29, [1, 1, 1], "N·C_out·L_out = 4294967300 values for the output"),
        })
        {
            using var conv = new Conv1d(cIn, cOut, 1, padding: padding);
            conv.Build(device);
            using var input = device.Zeros(shape);
            var e = Assert.Throws<ArgumentException>(() => conv.Forward(input))!;
            Assert.That(e.Message, Does.StartWith($"Conv1d({cIn}, {cOut}, kernel 1, stride 1, padding {padding}, dilation 1) on a tensor of shape {input.ShapeText} needs {size}").And.Not.Contain('\n'));
        }

        using var hugePadding = new Conv1d(1, 1, 1, padding: int.MaxValue);
        var outputLength = Assert.Throws<ArgumentOutOfRangeException>(() => hugePadding.OutputLength(13))!;
        Assert.That(outputLength.Message, Does.Contain("L_out = 4294967307").And.Not.Contain('\n'));
        var weight = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Conv1d(1 << 16, 1 << 16, 2))!;
        Assert.That(weight.Message, Does.Contain("[65536, 65536, 2] has 8589934592 values").And.Not.Contain('\n'));
    }

    private static Sequential Model(string variant)
    {
        var v = Variants[variant];
        var conv = new Conv1d(v.CIn, v.COut, v.K, v.Stride, v.Padding, v.Dilation, v.Bias, v.Groups);
        Module activation = variant is "strided" or "groups2" or "depthwise" ? new Tanh() : new Relu();
        return new Sequential(conv, activation, new Flatten(), new Linear(v.COut * conv.OutputLength(v.L), 2));
    }

    // A variant of PaddingVariants or DepthwiseVariants, and the fixture file it is in.
    private static ((int CIn, int COut, int K, int Stride, Conv1dPadding Padding, int Dilation, bool Bias, int L, int Groups, PaddingMode Mode) Variant, string File) PaddingVariant(string variant)
        => PaddingVariants.TryGetValue(variant, out var v) ? (v, "torch/conv1d_padding.safetensors") : (DepthwiseVariants[variant], "torch/conv1d_depthwise.safetensors");

    private static Sequential PaddingModel(string variant)
    {
        var v = PaddingVariant(variant).Variant;
        var conv = new Conv1d(v.CIn, v.COut, v.K, v.Stride, v.Padding, v.Dilation, v.Bias, v.Groups, v.Mode);
        Module activation = ReluVariants.Contains(variant) ? new Relu() : new Tanh();
        return new Sequential(conv, activation, new Flatten(), new Linear(v.COut * conv.OutputLength(v.L), 2));
    }

    // Positions past int.MaxValue on the way: tap i of output t reads t·stride − left + i·dilation, which is inside x here
    // although i·dilation and l + left are not ints. Both runs (the direct kernel and the GEMMs) give the taps' sums.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ADepthwiseLayerWhoseTapsPassIntMaxValueStillReadsTheRightPositions(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [10f, 20f, 30f, 40f, 50f, 60f, 70f, 80f];
        foreach (bool gemm in new[] { false, true })
        {
            // k 3, dilation 2^30 + 1: output 0's third tap reads −(2^31 − 1) + 2^31 + 2 = 3.
            using var dilated = new Conv1d(1, 1, 3, stride: 1 << 20, padding: int.MaxValue, dilation: (1 << 30) + 1, bias: false) { DepthwiseByGemm = gemm };
            dilated.Build(device, seed: 1);
            dilated.LoadStateDict(new Dictionary<string, (int[] Shape, float[] Data)> { ["weight"] = ([1, 1, 3], [1f, 1f, 1f]) });
            using var x = device.FromArray(xData, 1, 1, 8);
            var y = dilated.Forward(x);
            Assert.That(y.ToArray()[0], Is.EqualTo(40f), $"y[0], gemm {gemm}");
            var dyData = new float[y.Shape[2]];
            dyData[0] = 1f;
            using var dy = device.FromArray(dyData, 1, 1, dyData.Length);
            var dx = dilated.Backward(dy).ToArray();
            Assert.That(dx, Is.EqualTo(new[] { 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f }), $"dx, gemm {gemm}");
            Assert.That(dilated.Weight.Gradient.ToArray(), Is.EqualTo(new[] { 0f, 0f, 40f }), $"dW, gemm {gemm}");

            // k 1, padding 2^31 − 1, stride 2^20: output 2048 reads x[2048·2^20 − (2^31 − 1)] = x[1].
            using var strided = new Conv1d(1, 1, 1, stride: 1 << 20, padding: int.MaxValue, bias: false) { DepthwiseByGemm = gemm };
            strided.Build(device, seed: 1);
            strided.LoadStateDict(new Dictionary<string, (int[] Shape, float[] Data)> { ["weight"] = ([1, 1, 1], [2f]) });
            var z = strided.Forward(x);
            Assert.That(z.ToArray()[2048], Is.EqualTo(40f), $"z[2048], gemm {gemm}");
            var dzData = new float[z.Shape[2]];
            dzData[2048] = 1f;
            using var dz = device.FromArray(dzData, 1, 1, dzData.Length);
            Assert.That(strided.Backward(dz).ToArray(), Is.EqualTo(new[] { 0f, 2f, 0f, 0f, 0f, 0f, 0f, 0f }), $"dx of the strided layer, gemm {gemm}");
            Assert.That(strided.Weight.Gradient.ToArray(), Is.EqualTo(new[] { 20f }), $"dW of the strided layer, gemm {gemm}");
        }
    }

    // A layer applied to its own last output (an inference loop, y = f(f(x))) gives what it gives that output copied,
    // as the other layers do: the direct kernel, which reads x while it writes y, writes into a second buffer then.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ADepthwiseLayerAppliedToItsOwnOutputGivesWhatItGivesACopy(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (var (cIn, groups) in new[] { (2, 2), (1, 1) })
        {
            using var layer = new Conv1d(cIn, cIn, 3, padding: 1, groups: groups);
            layer.Build(device, seed: 1);
            using var x = device.FromArray(Enumerable.Range(1, cIn * 5).Select(v => (float)v).ToArray(), 1, cIn, 5);
            var once = layer.Forward(x);
            using var copy = device.FromArray(once.ToArray(), 1, cIn, 5);
            var twice = layer.Forward(once).ToArray();
            Assert.That(twice, Is.EqualTo(layer.Forward(copy).ToArray()), $"C_in {cIn}, groups {groups}");

            // Backward, given its own last input gradient, likewise.
            using var dy = device.FromArray(Enumerable.Range(1, cIn * 5).Select(v => v * 0.5f).ToArray(), 1, cIn, 5);
            var dx = layer.Backward(dy);
            using var dxCopy = device.FromArray(dx.ToArray(), 1, cIn, 5);
            var again = layer.Backward(dx).ToArray();
            Assert.That(again, Is.EqualTo(layer.Backward(dxCopy).ToArray()), $"backward, C_in {cIn}, groups {groups}");
        }
    }
}
