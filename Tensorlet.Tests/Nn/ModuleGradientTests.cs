using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The modules' and losses' backward passes: the float64 reference's gradients against central finite differences
/// (relative error below 1e-6), then the float32 modules, composed by Sequential, against that reference on every device.
/// </summary>
public sealed class ModuleGradientTests
{
    private const int Vocabulary = 6, Dim = 3, Steps = 3, Batch = 3, Hidden = 4, Classes = 5;
    private static readonly int[] Indices = [0, 5, 2, 3, 3, 1, 4, 0, 2];
    private static readonly int[] Targets = [2, -100, 4];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (var activation in ActivationCase.All)
            {
                yield return new TestCaseData(device, activation, false);
                yield return new TestCaseData(device, activation, true);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void EmbeddingSliceLinearAndCrossEntropyMatchFiniteDifferences(string deviceName, ActivationCase activation, bool sum)
    {
        var device = TestDevices.Get(deviceName);
        var reference = new ReferenceModules();
        reference.Randomize(1, ("0.weight", Vocabulary * Dim), ("2.weight", Hidden * Dim), ("2.bias", Hidden), ("4.weight", Classes * Hidden), ("4.bias", Classes));
        RoundToFloat(reference);
        var analytic = ClassifierGradients(reference, activation, sum);
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => ClassifierLoss(reference, activation, sum));

        using var model = new Sequential(new Embedding(Vocabulary, Dim), new Slice(-1, 1), new Linear(Dim, Hidden), activation.Module(), new Linear(Hidden, Classes));
        model.Build(device);
        Load(model, reference);
        using var x = device.IndexFromArray(Indices, Steps, Batch);
        using var y = device.IndexFromArray(Targets, Batch);
        using var loss = new CrossEntropyLoss(sum ? Reduction.Sum : Reduction.Mean);
        model.Parameters.ZeroGradients();
        double value = loss.Forward(model.Forward(x), y);
        model.Backward(loss.Backward());
        Assert.That(value, Is.EqualTo(ClassifierLoss(reference, activation, sum)).Within(1e-5));
        AssertGradients(model, analytic);
    }

    // Embedding(padding_idx), counted from the front (2) and from the end (-2, row 4): the padding row is read as it is
    // (here not zero, as a loaded table may have it) and gets no gradient. The reference reads it from a copy that finite
    // differences of the weight do not move, so its numeric gradient is zero as its analytic one. The last step, the one
    // the loss sees, holds both rows at positions whose targets count.
    [TestCaseSource(nameof(PaddingCases))]
    public void AnEmbeddingsPaddingRowIsAConstantOfTheLossAndGetsNoGradient(string deviceName, int paddingIdx)
    {
        var device = TestDevices.Get(deviceName);
        int row = paddingIdx < 0 ? Vocabulary + paddingIdx : paddingIdx;
        var reference = new ReferenceModules();
        reference.Randomize(3, ("0.weight", Vocabulary * Dim), ("2.weight", Hidden * Dim), ("2.bias", Hidden), ("4.weight", Classes * Hidden), ("4.bias", Classes));
        RoundToFloat(reference);
        var paddingRow = reference.Parameters["0.weight"][(row * Dim)..((row + 1) * Dim)];
        var analytic = ClassifierPass(reference, Activation.Tanh, false, row, paddingRow).Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => ClassifierPass(reference, Activation.Tanh, false, row, paddingRow).Loss);
        Assert.That(paddingRow, Is.Not.All.EqualTo(0.0), "a padding row that is read");
        Assert.That(analytic["0.weight"][(row * Dim)..((row + 1) * Dim)], Is.All.EqualTo(0.0));

        using var model = new Sequential(new Embedding(Vocabulary, Dim, paddingIdx), new Slice(-1, 1), new Linear(Dim, Hidden), new Tanh(), new Linear(Hidden, Classes));
        model.Build(device);
        Load(model, reference);
        using var x = device.IndexFromArray(Indices, Steps, Batch);
        using var y = device.IndexFromArray(Targets, Batch);
        using var loss = new CrossEntropyLoss();
        model.Parameters.ZeroGradients();
        double value = loss.Forward(model.Forward(x), y);
        model.Backward(loss.Backward());
        Assert.That(value, Is.EqualTo(ClassifierPass(reference, Activation.Tanh, false, row, paddingRow).Loss).Within(1e-5));
        AssertGradients(model, analytic);
    }

    // A batch whose every target is ignored: the mean is 0/0 (NaN) and the sum 0, as in PyTorch, and the gradient is
    // zero (PyTorch's too), so an optimizer step after it changes nothing.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ABatchWithEveryTargetIgnoredHasAZeroGradient(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var logits = device.FromArray([1f, 2f, 3f, -1f, 0f, 4f], 2, 3);
        using var targets = device.IndexFromArray([-100, -100], 2);
        using var mean = new CrossEntropyLoss();
        using var sum = new CrossEntropyLoss(Reduction.Sum);

        Assert.That(mean.Forward(logits, targets), Is.NaN);
        Assert.That(mean.Backward().ToArray(), Is.All.EqualTo(0f));
        Assert.That(sum.Forward(logits, targets), Is.Zero);
        Assert.That(sum.Backward().ToArray(), Is.All.EqualTo(0f));
    }

    [TestCaseSource(nameof(Cases))]
    public void LinearActivationsAndMseMatchFiniteDifferencesIncludingTheInputGradient(string deviceName, ActivationCase activation, bool sum)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 4, inFeatures = 3, outFeatures = 2;
        var reference = new ReferenceModules();
        reference.Randomize(2, ("0.weight", Hidden * inFeatures), ("0.bias", Hidden), ("2.weight", outFeatures * Hidden), ("2.bias", outFeatures), ("x", n * inFeatures));
        RoundToFloat(reference);
        var target = Enumerable.Range(0, n * outFeatures).Select(i => (double)(float)Math.Sin(i)).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var h = reference.Linear("0", x, n, inFeatures, Hidden);
            var a = ReferenceModules.Activate(activation, h);
            var p = reference.Linear("2", a, n, Hidden, outFeatures);
            var (l, dp) = ReferenceModules.Mse(p, target, sum);
            var grads = new Dictionary<string, double[]>();
            var da = reference.LinearBackward("2", a, dp, n, Hidden, outFeatures, grads);
            var dh = ReferenceModules.ActivateBackward(activation, h, a, da);
            grads["x"] = reference.LinearBackward("0", x, dh, n, inFeatures, Hidden, grads);
            return (l, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        using var model = new Sequential(new Linear(inFeatures, Hidden), activation.Module(), new Linear(Hidden, outFeatures));
        model.Build(device);
        Load(model, reference);
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), n, inFeatures);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), n, outFeatures);
        using var mse = new MseLoss(sum ? Reduction.Sum : Reduction.Mean);
        model.Parameters.ZeroGradients();
        double value = mse.Forward(model.Forward(input), expected);
        var dx = model.Backward(mse.Backward())!;
        Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5));
        AssertGradients(model, analytic);
        AssertClose(dx.ToArray(), analytic["x"], "x");
    }

    // Linear(bias: false), as nn.Linear(bias=False): no bias parameter, y = x·Wᵀ, on float input and on token ids (the
    // gather, whose reference is the product with their one-hot rows).
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LinearsWithoutBiasMatchFiniteDifferencesOnFloatsAndOnTokenIds(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 4, outFeatures = 2;
        int[] ids = [3, 0, 5, 3];
        var target = Enumerable.Range(0, n * outFeatures).Select(i => (double)(float)Math.Cos(i)).ToArray();
        foreach (bool onIds in new[] { false, true })
        {
            var reference = new ReferenceModules();
            reference.Randomize(5, ("0.weight", Hidden * Vocabulary), ("2.weight", outFeatures * Hidden));
            if (!onIds)
            {
                reference.Randomize(6, ("x", n * Vocabulary));
            }

            RoundToFloat(reference);
            var oneHot = new double[n * Vocabulary];
            for (int i = 0; i < n; i++)
            {
                oneHot[(i * Vocabulary) + ids[i]] = 1;
            }

            (double Loss, Dictionary<string, double[]> Grads) Run()
            {
                var x = onIds ? oneHot : reference.Parameters["x"];
                var h = reference.Linear("0", x, n, Vocabulary, Hidden);
                var a = ReferenceModules.Activate(Activation.Tanh, h);
                var (l, dp) = ReferenceModules.Mse(reference.Linear("2", a, n, Hidden, outFeatures), target, false);
                var grads = new Dictionary<string, double[]>();
                var dh = ReferenceModules.ActivateBackward(Activation.Tanh, h, a, reference.LinearBackward("2", a, dp, n, Hidden, outFeatures, grads));
                var dx = reference.LinearBackward("0", x, dh, n, Vocabulary, Hidden, grads);
                if (!onIds)
                {
                    grads["x"] = dx;
                }

                return (l, grads);
            }

            var analytic = Run().Grads;
            GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

            using var model = new Sequential(new Linear(Vocabulary, Hidden, bias: false), new Tanh(), new Linear(Hidden, outFeatures, bias: false));
            model.Build(device);
            Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "2.weight" }), "no bias in the state_dict");
            Assert.That(((Linear)model[0]).Bias, Is.Null);
            Load(model, reference);
            using var x = onIds ? null : device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), n, Vocabulary);
            using var xIds = onIds ? device.IndexFromArray(ids, n) : null;
            using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), n, outFeatures);
            using var mse = new MseLoss();
            model.Parameters.ZeroGradients();
            double value = mse.Forward(onIds ? model.Forward(xIds!) : model.Forward(x!), expected);
            var dx = model.Backward(mse.Backward());
            Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5), onIds ? "ids" : "floats");
            AssertGradients(model, analytic);
            if (onIds)
            {
                Assert.That(dx, Is.Null, "token ids have no gradient");
            }
            else
            {
                AssertClose(dx!.ToArray(), analytic["x"], "x");
            }
        }
    }

    private static IEnumerable<TestCaseData> LayerNormCases() =>
        from device in TestDevices.All
        from affine in new[] { "weight and bias", "bias: false", "elementwiseAffine: false" }
        select new TestCaseData(device, affine);

    // Linear → LayerNorm → Tanh → Linear → MSE on rank-3 input [2, 3, In]: the LayerNorm's rows are the 6 leading positions.
    [TestCaseSource(nameof(LayerNormCases))]
    public void ALayerNormBetweenLinearsOnRank3InputMatchesFiniteDifferences(string deviceName, string affine)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 6, inFeatures = 3, outFeatures = 2;
        var reference = new ReferenceModules();
        reference.Randomize(7, ("0.weight", Hidden * inFeatures), ("0.bias", Hidden), ("3.weight", outFeatures * Hidden), ("3.bias", outFeatures), ("x", n * inFeatures));
        if (affine != "elementwiseAffine: false")
        {
            reference.Randomize(8, ("1.weight", Hidden));
        }

        if (affine == "weight and bias")
        {
            reference.Randomize(9, ("1.bias", Hidden));
        }

        RoundToFloat(reference);
        var target = Enumerable.Range(0, n * outFeatures).Select(i => (double)(float)Math.Sin(i)).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var h = reference.Linear("0", x, n, inFeatures, Hidden);
            var (normalized, mean, rstd) = reference.LayerNorm("1", h, n, Hidden, 1e-5);
            var a = ReferenceModules.Activate(Activation.Tanh, normalized);
            var (l, dp) = ReferenceModules.Mse(reference.Linear("3", a, n, Hidden, outFeatures), target, sum: false);
            var grads = new Dictionary<string, double[]>();
            var da = reference.LinearBackward("3", a, dp, n, Hidden, outFeatures, grads);
            var dNormalized = ReferenceModules.ActivateBackward(Activation.Tanh, normalized, a, da);
            var dh = reference.LayerNormBackward("1", h, mean, rstd, dNormalized, n, Hidden, grads);
            grads["x"] = reference.LinearBackward("0", x, dh, n, inFeatures, Hidden, grads);
            return (l, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        var layerNorm = new LayerNorm(Hidden, elementwiseAffine: affine != "elementwiseAffine: false", bias: affine == "weight and bias");
        using var model = new Sequential(new Linear(inFeatures, Hidden), layerNorm, new Tanh(), new Linear(Hidden, outFeatures));
        model.Build(device);
        Load(model, reference);
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), 2, 3, inFeatures);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), 2, 3, outFeatures);
        using var mse = new MseLoss();
        model.Parameters.ZeroGradients();
        double value = mse.Forward(model.Forward(input), expected);
        var dx = model.Backward(mse.Backward())!;
        Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5));
        Assert.That(dx.Shape, Is.EqualTo(new[] { 2, 3, inFeatures }), "dx is shaped as the input");
        AssertGradients(model, analytic);
        AssertClose(dx.ToArray(), analytic["x"], "x");
    }

    private static IEnumerable<TestCaseData> SoftmaxCases() =>
        from device in TestDevices.All
        from log in new[] { false, true }
        from sum in new[] { false, true }
        select new TestCaseData(device, log, sum).SetArgDisplayNames(device, log ? "LogSoftmax + NllLoss" : "Softmax + MseLoss", sum ? "sum" : "mean");

    // Linear → Softmax → MSE, or Linear → LogSoftmax → NLL with an ignored target, on rank-3 input [2, 3, In]: the
    // softmax's rows are the 6 leading positions.
    [TestCaseSource(nameof(SoftmaxCases))]
    public void ASoftmaxAfterALinearOnRank3InputMatchesFiniteDifferences(string deviceName, bool log, bool sum)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 6, inFeatures = 3;
        int[] targets = [2, -100, 4, 1, 0, 4];
        var reference = new ReferenceModules();
        reference.Randomize(log ? 11 : 12, ("0.weight", Classes * inFeatures), ("0.bias", Classes), ("x", n * inFeatures));
        RoundToFloat(reference);
        var target = Enumerable.Range(0, n * Classes).Select(i => (double)(float)(0.2 + (0.1 * Math.Sin(i)))).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var y = ReferenceModules.Softmax(reference.Linear("0", x, n, inFeatures, Classes), n, Classes, log);
            var (l, dy) = log ? ReferenceModules.Nll(y, targets, Classes, sum) : ReferenceModules.Mse(y, target, sum);
            var grads = new Dictionary<string, double[]>();
            var dh = ReferenceModules.SoftmaxBackward(y, dy, n, Classes, log);
            grads["x"] = reference.LinearBackward("0", x, dh, n, inFeatures, Classes, grads);
            return (l, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        using var model = new Sequential(new Linear(inFeatures, Classes), log ? new LogSoftmax() : new Softmax());
        model.Build(device);
        Load(model, reference);
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), 2, 3, inFeatures);
        using var classIds = device.IndexFromArray(targets, 2, 3);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), 2, 3, Classes);
        using var nll = new NllLoss(sum ? Reduction.Sum : Reduction.Mean);
        using var mse = new MseLoss(sum ? Reduction.Sum : Reduction.Mean);
        model.Parameters.ZeroGradients();
        var output = model.Forward(input);
        Assert.That(output.Shape, Is.EqualTo(new[] { 2, 3, Classes }), "y is shaped as the input");
        double value = log ? nll.Forward(output, classIds) : mse.Forward(output, expected);
        var dx = model.Backward(log ? nll.Backward() : mse.Backward())!;
        Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5));
        Assert.That(dx.Shape, Is.EqualTo(new[] { 2, 3, inFeatures }), "dx is shaped as the input");
        AssertGradients(model, analytic);
        AssertClose(dx.ToArray(), analytic["x"], "x");
    }

    private static IEnumerable<TestCaseData> BatchNormCases() =>
        from device in TestDevices.All
        from rank in new[] { 2, 3, 4 }
        from affine in new[] { true, false }
        select new TestCaseData(device, rank, affine);

    // Linear → BatchNorm1d (training) → Tanh → Linear → MSE: on [6, In], the batch norm's input [6, Hidden] is [N, C]; on
    // [2, 3, In], it is [N, C, L] = [2, 3, Hidden], its channels the 3 positions of dimension 1; on [2, 3, 2, In], a
    // BatchNorm2d's [N, C, H, W] = [2, 3, 2, Hidden], each channel's statistics over its N·H·W values.
    [TestCaseSource(nameof(BatchNormCases))]
    public void ABatchNormBetweenLinearsInTrainingMatchesFiniteDifferences(string deviceName, int rank, bool affine)
    {
        var device = TestDevices.Get(deviceName);
        const int inFeatures = 3, outFeatures = 2;
        int rows = rank == 4 ? 12 : 6;
        var (n, c, l) = rank switch { 2 => (rows, Hidden, 1), 3 => (2, 3, Hidden), _ => (2, 3, 2 * Hidden) };
        var reference = new ReferenceModules();
        reference.Randomize(7, ("0.weight", Hidden * inFeatures), ("0.bias", Hidden), ("3.weight", outFeatures * Hidden), ("3.bias", outFeatures), ("x", rows * inFeatures));
        if (affine)
        {
            reference.Randomize(8, ("1.weight", c), ("1.bias", c));
        }

        RoundToFloat(reference);
        var target = Enumerable.Range(0, rows * outFeatures).Select(i => (double)(float)Math.Sin(i)).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var h = reference.Linear("0", x, rows, inFeatures, Hidden);
            var (normalized, mean, variance) = reference.BatchNorm("1", h, n, c, l, 1e-5);
            var a = ReferenceModules.Activate(Activation.Tanh, normalized);
            var (loss, dp) = ReferenceModules.Mse(reference.Linear("3", a, rows, Hidden, outFeatures), target, sum: false);
            var grads = new Dictionary<string, double[]>();
            var da = reference.LinearBackward("3", a, dp, rows, Hidden, outFeatures, grads);
            var dNormalized = ReferenceModules.ActivateBackward(Activation.Tanh, normalized, a, da);
            var dh = reference.BatchNormBackward("1", h, mean, variance, dNormalized, n, c, l, 1e-5, grads);
            grads["x"] = reference.LinearBackward("0", x, dh, rows, inFeatures, Hidden, grads);
            return (loss, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        using var model = new Sequential(
            new Linear(inFeatures, Hidden), rank == 4 ? new BatchNorm2d(c, affine: affine) : new BatchNorm1d(c, affine: affine), new Tanh(), new Linear(Hidden, outFeatures));
        model.Build(device);
        Load(model, reference);
        int[] inputShape = rank switch { 2 => [rows, inFeatures], 3 => [2, 3, inFeatures], _ => [2, 3, 2, inFeatures] };
        int[] outputShape = [.. inputShape[..^1], outFeatures];
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), inputShape);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), outputShape);
        using var mse = new MseLoss();
        model.Parameters.ZeroGradients();
        double value = mse.Forward(model.Forward(input), expected);
        var dx = model.Backward(mse.Backward())!;
        Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5));
        Assert.That(dx.Shape, Is.EqualTo(inputShape), "dx is shaped as the input");
        AssertGradients(model, analytic);
        AssertClose(dx.ToArray(), analytic["x"], "x");
    }

    private static IEnumerable<TestCaseData> ConvolutionCases() =>
        from device in TestDevices.All
        from geometry in new[] { "k3", "k3 s2 p1 d2", "k2 s3 p2 no bias", "k3 s2 p1 d2 groups 2", "k2 s3 p2 no bias depthwise", "k4 same", "k2 d3 same groups 2", "k3 p3 reflect", "k2 d3 same reflect groups 2", "k3 s2 p2 circular groups 2", "k4 p9 circular", "k3 p5 replicate depthwise", "k3 s2 p1 d2 depthwise x2", "k2 d3 same circular depthwise x2" }
        select new TestCaseData(device, geometry);

    // Conv1d → Tanh → Flatten → Linear → MSE on x [2, C_in, 9]: the input, the convolution's weight and bias and the
    // Linear's parameters. "k3 s2 p1 d2" has stride, padding and dilation together (L_out = 4); "k2 s3 p2" has a stride
    // past the kernel (positions no tap reads, whose dx is 0) and padding that makes the first and last outputs read
    // mostly zeros (L_out = 4). The grouped cases are the same geometries with groups 2 (C_in 4 → C_out 6) and
    // depthwise (groups = C_in = C_out = 4). The 'same' cases have an odd reach, so one more zero on the right than on
    // the left: k 4 (1 and 2), and k 2 at dilation 3 in two groups (1 and 2). The padding modes: reflect, padding 3,
    // and 'same' of an odd reach in two groups; circular in two groups with a stride, and at padding L = 9 (wrapped
    // once each side); replicate past the kernel, depthwise (the end positions take many gradients). The depthwise
    // layers run the direct kernel, also with two output channels per input channel ("x2", C_out 8): with stride,
    // padding and dilation, and with 'same' circular padding.
    [TestCaseSource(nameof(ConvolutionCases))]
    public void AConv1dBeforeFlattenAndLinearMatchesFiniteDifferences(string deviceName, string geometry)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 2, length = 9, outFeatures = 2;
        var (k, stride, left, right, dilation, bias) = geometry switch
        {
            "k3" => (3, 1, 0, 0, 1, true),
            "k3 s2 p1 d2" or "k3 s2 p1 d2 groups 2" or "k3 s2 p1 d2 depthwise x2" => (3, 2, 1, 1, 2, true),
            "k4 same" => (4, 1, 1, 2, 1, true),
            "k2 d3 same groups 2" or "k2 d3 same reflect groups 2" or "k2 d3 same circular depthwise x2" => (2, 1, 1, 2, 3, false),
            "k3 p3 reflect" => (3, 1, 3, 3, 1, true),
            "k3 s2 p2 circular groups 2" => (3, 2, 2, 2, 1, true),
            "k4 p9 circular" => (4, 1, 9, 9, 1, false),
            "k3 p5 replicate depthwise" => (3, 1, 5, 5, 1, true),
            _ => (2, 3, 2, 2, 1, false),
        };
        var (inChannels, outChannels, groups) = geometry switch
        {
            "k3 s2 p1 d2 groups 2" or "k2 d3 same groups 2" or "k2 d3 same reflect groups 2" or "k3 s2 p2 circular groups 2" => (4, 6, 2),
            "k2 s3 p2 no bias depthwise" or "k3 p5 replicate depthwise" => (4, 4, 4),
            "k3 s2 p1 d2 depthwise x2" or "k2 d3 same circular depthwise x2" => (4, 8, 4),
            _ => (3, 4, 1),
        };
        Conv1dPadding padding = geometry.Contains("same", StringComparison.Ordinal) ? Conv1dPadding.Same : left;
        var mode = geometry.Contains("reflect", StringComparison.Ordinal) ? PaddingMode.Reflect
            : geometry.Contains("circular", StringComparison.Ordinal) ? PaddingMode.Circular
            : geometry.Contains("replicate", StringComparison.Ordinal) ? PaddingMode.Replicate
            : PaddingMode.Zeros;
        var g = new Conv1dGeometry(n, inChannels, length, k, stride, left, right, dilation);
        int flat = outChannels * g.OutputLength;
        var reference = new ReferenceModules();
        reference.Randomize(9, ("0.weight", outChannels * inChannels / groups * k), ("3.weight", outFeatures * flat), ("3.bias", outFeatures), ("x", n * inChannels * length));
        if (bias)
        {
            reference.Randomize(10, ("0.bias", outChannels));
        }

        using var model = new Sequential(new Conv1d(inChannels, outChannels, k, stride, padding, dilation, bias, groups, mode), new Tanh(), new Flatten(), new Linear(flat, outFeatures));
        AssertAConvolutionBeforeFlattenAndLinearMatches(
            device, model, reference, [n, inChannels, length], x => reference.Conv1d("0", x, g, outChannels, groups, mode), (x, dh, grads) => reference.Conv1dBackward("0", x, dh, g, outChannels, grads, groups, mode));
    }

    private static IEnumerable<TestCaseData> PoolingCases() =>
        from device in TestDevices.All
        from pooling in new[]
        {
            "max k2", "max k3 s2 p1 d2", "avg k3 s2 p1", "avg k4 s3 p2 no pad count", "adaptive max 4", "adaptive avg 4", "global max", "global avg", "adaptive max 12", "max k2 ceil", "avg k4 s3 p1 ceil", "avg k2 ceil no pad count",
            "2d max k(3, 2) s(2, 1) p1 d(1, 2)", "2d max k2 ceil", "2d avg k(3, 4) s(2, 3) p(1, 2) no pad count", "2d avg k3 s2 p1 ceil", "2d avg k(2, 3) s1", "2d adaptive max (4, 3)", "2d adaptive avg (4, 5)", "2d global max",
        }
        select new TestCaseData(device, pooling);

    // Pooling → Tanh → Flatten → Linear → MSE on x [2, 3, 9]: the input and the Linear's parameters. x holds distinct
    // values at least 0.05 apart (3/count for the larger inputs of the 2-d ones), so no step of the finite differences moves a window's maximum. "max k2" leaves the
    // last position unread (dx 0 there); "max k3 s2 p1 d2" pads and dilates; the average with padding counts it or
    // not; the adaptive windows overlap (9 is no multiple of 4), outputSize 1 pools globally, and 12 outputs over 9
    // positions read some positions twice. In ceil mode each last window runs past x: "max k2 ceil" reads the position
    // "max k2" leaves, "avg k4 s3 p1 ceil" divides its last window [8, 12) by the 2 taps before L + padding, and
    // "avg k2 ceil no pad count" its [8, 10) by 1. The 2-d poolings ("2d ...") run on x [2, 2, 6, 7] and cross their
    // windows along H and W: a non-square kernel, stride and dilation, padding on both axes (counted or not), ceil mode
    // past the end along both, overlapping windows (stride 1), and adaptive windows that overlap along one axis and
    // not the other.
    [TestCaseSource(nameof(PoolingCases))]
    public void APoolingBeforeFlattenAndLinearMatchesFiniteDifferences(string deviceName, string pooling)
    {
        var device = TestDevices.Get(deviceName);
        bool planes = pooling.StartsWith("2d", StringComparison.Ordinal);
        int n = 2, channels = planes ? 2 : 3, length = 9, height = 6, width = 7, outFeatures = 2;
        int[] shape = planes ? [n, channels, height, width] : [n, channels, length];
        Pool2dGeometry Planes(int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool count, bool ceil)
            => new(n * channels, Pool1dGeometry.Sliding(1, height, kh, sh, ph, dh, count, ceil), Pool1dGeometry.Sliding(1, width, kw, sw, pw, dw, count, ceil));
        Pool2dGeometry Adaptive(int oh, int ow) => new(n * channels, Pool1dGeometry.AdaptiveWindows(1, height, oh), Pool1dGeometry.AdaptiveWindows(1, width, ow));
        var (pool, g, max) = pooling switch
        {
            "2d max k(3, 2) s(2, 1) p1 d(1, 2)" => ((Module)new MaxPool2d((3, 2), stride: (2, 1), padding: 1, dilation: (1, 2)), Planes(3, 2, 2, 1, 1, 1, 1, 2, true, false), true),
            "2d max k2 ceil" => (new MaxPool2d(2, ceilMode: true), Planes(2, 2, 2, 2, 0, 0, 1, 1, true, true), true),
            "2d avg k(3, 4) s(2, 3) p(1, 2) no pad count" => (new AvgPool2d((3, 4), stride: (2, 3), padding: (1, 2), countIncludePad: false), Planes(3, 4, 2, 3, 1, 2, 1, 1, false, false), false),
            "2d avg k3 s2 p1 ceil" => (new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true), Planes(3, 3, 2, 2, 1, 1, 1, 1, true, true), false),
            "2d avg k(2, 3) s1" => (new AvgPool2d((2, 3), stride: 1), Planes(2, 3, 1, 1, 0, 0, 1, 1, true, false), false),
            "2d adaptive max (4, 3)" => (new AdaptiveMaxPool2d((4, 3)), Adaptive(4, 3), true),
            "2d adaptive avg (4, 5)" => (new AdaptiveAvgPool2d((4, 5)), Adaptive(4, 5), false),
            "2d global max" => (new AdaptiveMaxPool2d(1), Adaptive(1, 1), true),
            "max k2" => (new MaxPool1d(2), Pool1dGeometry.Sliding(n * channels, length, 2, 2, 0, 1, true), true),
            "max k3 s2 p1 d2" => (new MaxPool1d(3, stride: 2, padding: 1, dilation: 2), Pool1dGeometry.Sliding(n * channels, length, 3, 2, 1, 2, true), true),
            "avg k3 s2 p1" => (new AvgPool1d(3, stride: 2, padding: 1), Pool1dGeometry.Sliding(n * channels, length, 3, 2, 1, 1, true), false),
            "avg k4 s3 p2 no pad count" => (new AvgPool1d(4, stride: 3, padding: 2, countIncludePad: false), Pool1dGeometry.Sliding(n * channels, length, 4, 3, 2, 1, false), false),
            "adaptive max 4" => (new AdaptiveMaxPool1d(4), Pool1dGeometry.AdaptiveWindows(n * channels, length, 4), true),
            "adaptive avg 4" => (new AdaptiveAvgPool1d(4), Pool1dGeometry.AdaptiveWindows(n * channels, length, 4), false),
            "global max" => (new AdaptiveMaxPool1d(1), Pool1dGeometry.AdaptiveWindows(n * channels, length, 1), true),
            "global avg" => (new AdaptiveAvgPool1d(1), Pool1dGeometry.AdaptiveWindows(n * channels, length, 1), false),
            "max k2 ceil" => (new MaxPool1d(2, ceilMode: true), Pool1dGeometry.Sliding(n * channels, length, 2, 2, 0, 1, true, ceilMode: true), true),
            "avg k4 s3 p1 ceil" => (new AvgPool1d(4, stride: 3, padding: 1, ceilMode: true), Pool1dGeometry.Sliding(n * channels, length, 4, 3, 1, 1, true, ceilMode: true), false),
            "avg k2 ceil no pad count" => (new AvgPool1d(2, countIncludePad: false, ceilMode: true), Pool1dGeometry.Sliding(n * channels, length, 2, 2, 0, 1, false, ceilMode: true), false),
            _ => (new AdaptiveMaxPool1d(12), Pool1dGeometry.AdaptiveWindows(n * channels, length, 12), true),
        };
        int flat = channels * g.OutputSize, count = shape.Aggregate(1, (a, b) => a * b);
        double spacing = Math.Min(0.05, 3.0 / count);
        var reference = new ReferenceModules();
        reference.Randomize(11, ("3.weight", outFeatures * flat), ("3.bias", outFeatures));
        var shuffle = new Random(12);
        reference.Parameters["x"] = [.. Enumerable.Range(0, count).Select(i => (i * spacing) - 1.3).OrderBy(_ => shuffle.Next())];
        RoundToFloat(reference);
        var target = Enumerable.Range(0, n * outFeatures).Select(i => (double)(float)Math.Sin(i)).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var h = new double[g.Planes * g.OutputSize];
            var argmax = new int[h.Length];
            if (max)
            {
                ReferencePool.MaxForward(g, x, h, argmax);
            }
            else
            {
                ReferencePool.AvgForward(g, x, h);
            }

            var a = ReferenceModules.Activate(Activation.Tanh, h);
            var (loss, dp) = ReferenceModules.Mse(reference.Linear("3", a, n, flat, outFeatures), target, sum: false);
            var grads = new Dictionary<string, double[]>();
            var da = reference.LinearBackward("3", a, dp, n, flat, outFeatures, grads);
            var dh = ReferenceModules.ActivateBackward(Activation.Tanh, h, a, da);
            grads["x"] = new double[x.Length];
            if (max)
            {
                ReferencePool.MaxBackward(g, dh, argmax, grads["x"]);
            }
            else
            {
                ReferencePool.AvgBackward(g, dh, grads["x"]);
            }

            return (loss, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        using var pooled = new Sequential(pool, new Tanh(), new Flatten(), new Linear(flat, outFeatures));
        pooled.Build(device);
        Load(pooled, reference);
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), shape);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), n, outFeatures);
        using var mse = new MseLoss();
        foreach (int pass in new[] { 1, 2 })
        {
            // The second pass runs in the buffers of the first.
            pooled.Parameters.ZeroGradients();
            double value = mse.Forward(pooled.Forward(input), expected);
            var dx = pooled.Backward(mse.Backward())!;
            Assert.That(value, Is.EqualTo(Run().Loss).Within(1e-5), $"pass {pass}");
            Assert.That(dx.Shape, Is.EqualTo(shape), "dx is shaped as the input");
            AssertGradients(pooled, analytic);
            AssertClose(dx.ToArray(), analytic["x"], "x");
        }
    }

    private static IEnumerable<TestCaseData> PaddingCases() =>
        from device in TestDevices.All
        from paddingIdx in new[] { 2, -2 }
        select new TestCaseData(device, paddingIdx);

    private static double ClassifierLoss(ReferenceModules reference, ActivationCase activation, bool sum) => ClassifierPass(reference, activation, sum).Loss;

    private static Dictionary<string, double[]> ClassifierGradients(ReferenceModules reference, ActivationCase activation, bool sum) => ClassifierPass(reference, activation, sum).Grads;

    private static (double Loss, Dictionary<string, double[]> Grads) ClassifierPass(ReferenceModules reference, ActivationCase activation, bool sum, int paddingIdx = -1, double[]? paddingRow = null)
    {
        var e = reference.Embedding("0", Indices, Dim, paddingIdx, paddingRow);
        var last = e[((Steps - 1) * Batch * Dim)..];
        var h = reference.Linear("2", last, Batch, Dim, Hidden);
        var a = ReferenceModules.Activate(activation, h);
        var z = reference.Linear("4", a, Batch, Hidden, Classes);
        var (loss, dz) = ReferenceModules.CrossEntropy(z, Targets, Classes, sum);
        var grads = new Dictionary<string, double[]>();
        var da = reference.LinearBackward("4", a, dz, Batch, Hidden, Classes, grads);
        var dh = ReferenceModules.ActivateBackward(activation, h, a, da);
        var dLast = reference.LinearBackward("2", last, dh, Batch, Dim, Hidden, grads);
        var de = new double[e.Length];
        Array.Copy(dLast, 0, de, (Steps - 1) * Batch * Dim, dLast.Length);
        ReferenceModules.EmbeddingBackward("0", Indices, de, Dim, grads, Vocabulary, paddingIdx);
        return (loss, grads);
    }

    // name: (C_in, C_out, kernel, stride, padding, dilation, bias, groups), each case non-square: a 3×2 kernel with
    // stride 2, padding (1, 2) and dilation 2; a stride past the kernel on the height (rows no tap reads, whose dx is
    // 0) with padding on the height alone and no bias; two groups (C_in 4 → C_out 6) with a different stride and
    // dilation on each axis; 'same' for a 4×3 kernel dilated on the width (one more zero row below than above).
    private static readonly Dictionary<string, (int CIn, int COut, Size2d Kernel, Size2d Stride, Conv2dPadding Padding, Size2d Dilation, bool Bias, int Groups)> Convolution2dCases = new()
    {
        ["k3x2 s2 p(1,2) d2"] = (3, 4, (3, 2), 2, (1, 2), 2, true, 1),
        ["k2x3 s(3,1) p(2,0) d(1,2) no bias"] = (2, 3, (2, 3), (3, 1), (2, 0), (1, 2), false, 1),
        ["k2x3 s(2,1) p1 d(2,1) groups 2"] = (4, 6, (2, 3), (2, 1), 1, (2, 1), true, 2),
        ["k4x3 same d(1,2)"] = (3, 4, (4, 3), 1, Conv2dPadding.Same, (1, 2), true, 1),
    };

    private static IEnumerable<TestCaseData> Convolution2dCaseData() =>
        from device in TestDevices.All
        from name in Convolution2dCases.Keys
        select new TestCaseData(device, name);

    // Conv2d → Tanh → Flatten → Linear → MSE on x [2, C_in, 7, 6]: the input, the convolution's weight and bias and the
    // Linear's parameters, against central differences of the float64 reference, twice (the second pass in the
    // buffers of the first).
    [TestCaseSource(nameof(Convolution2dCaseData))]
    public void AConv2dBeforeFlattenAndLinearMatchesFiniteDifferences(string deviceName, string name)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 2, height = 7, width = 6, outFeatures = 2;
        var (inChannels, outChannels, kernel, stride, padding, dilation, bias, groups) = Convolution2dCases[name];
        using var conv = new Conv2d(inChannels, outChannels, kernel, stride, padding, dilation, bias, groups);
        var g = new Conv2dGeometry(n, inChannels, height, width, new Conv2dWindow(kernel.Height, kernel.Width, stride.Height, stride.Width, conv.PaddingTop, conv.PaddingBottom, conv.PaddingLeft, conv.PaddingRight, dilation.Height, dilation.Width));
        int flat = outChannels * g.OutputHeight * g.OutputWidth;
        var reference = new ReferenceModules();
        reference.Randomize(9, ("0.weight", outChannels * inChannels / groups * kernel.Height * kernel.Width), ("3.weight", outFeatures * flat), ("3.bias", outFeatures), ("x", n * inChannels * height * width));
        if (bias)
        {
            reference.Randomize(10, ("0.bias", outChannels));
        }

        using var model = new Sequential(new Conv2d(inChannels, outChannels, kernel, stride, padding, dilation, bias, groups), new Tanh(), new Flatten(), new Linear(flat, outFeatures));
        AssertAConvolutionBeforeFlattenAndLinearMatches(
            device, model, reference, [n, inChannels, height, width], x => reference.Conv2d("0", x, g, outChannels, groups), (x, dh, grads) => reference.Conv2dBackward("0", x, dh, g, outChannels, grads, groups));
    }

    // model = Sequential(convolution, Tanh, Flatten, Linear(flat, 2)) → MSE (mean) against sin(i), on x of inputShape,
    // with the reference's parameters (0.* the convolution's, 3.* the Linear's, x the input): the float64 reference, with
    // the convolution's forward and backward given, is checked against central differences, then the module on the
    // device against it, twice (the second pass in the buffers of the first).
    private static void AssertAConvolutionBeforeFlattenAndLinearMatches(
        Device device, Sequential model, ReferenceModules reference, int[] inputShape, Func<double[], double[]> convolve, Func<double[], double[], Dictionary<string, double[]>, double[]> convolveBackward)
    {
        const int outFeatures = 2;
        int n = inputShape[0], flat = reference.Parameters["3.weight"].Length / outFeatures;
        RoundToFloat(reference);
        var target = Enumerable.Range(0, n * outFeatures).Select(i => (double)(float)Math.Sin(i)).ToArray();
        (double Loss, Dictionary<string, double[]> Grads) Run()
        {
            var x = reference.Parameters["x"];
            var h = convolve(x);
            var a = ReferenceModules.Activate(Activation.Tanh, h);
            var (loss, dp) = ReferenceModules.Mse(reference.Linear("3", a, n, flat, outFeatures), target, sum: false);
            var grads = new Dictionary<string, double[]>();
            var da = reference.LinearBackward("3", a, dp, n, flat, outFeatures, grads);
            var dh = ReferenceModules.ActivateBackward(Activation.Tanh, h, a, da);
            grads["x"] = convolveBackward(x, dh, grads);
            return (loss, grads);
        }

        var analytic = Run().Grads;
        GradientCheck.MaxRelativeError(reference.Parameters, analytic, () => Run().Loss);

        model.Build(device);
        Load(model, reference);
        using var input = device.FromArray(Array.ConvertAll(reference.Parameters["x"], v => (float)v), inputShape);
        using var expected = device.FromArray(Array.ConvertAll(target, v => (float)v), n, outFeatures);
        using var mse = new MseLoss();
        foreach (int pass in new[] { 1, 2 })
        {
            model.Parameters.ZeroGradients();
            double value = mse.Forward(model.Forward(input), expected);
            var dx = model.Backward(mse.Backward())!;
            double loss = Run().Loss;

            // A float sum over the taps, then over the flattened features: the loss to 1e-5, relative past 1.
            Assert.That(value, Is.EqualTo(loss).Within(1e-5 * Math.Max(1, loss)), $"pass {pass}");
            Assert.That(dx.Shape, Is.EqualTo(inputShape), "dx is shaped as the input");
            AssertGradients(model, analytic);
            AssertClose(dx.ToArray(), analytic["x"], "x");
        }
    }

    private static void RoundToFloat(ReferenceModules reference)
    {
        foreach (var values in reference.Parameters.Values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)values[i];
            }
        }
    }

    // Every parameter (strict: false leaves the buffers, which the reference has not, at their start values).
    private static void Load(Module model, ReferenceModules reference)
        => model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), Array.ConvertAll(reference.Parameters[p.Name], v => (float)v))), strict: false);

    private static void AssertGradients(Module model, Dictionary<string, double[]> analytic)
    {
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), analytic[p.Name], p.Name);
        }
    }

    // float32 forward and backward against the float64 reference at the same (float) parameters.
    private static void AssertClose(float[] actual, double[] expected, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-6 + (1e-4 * Math.Abs(expected[i]))), $"{name}[{i}]");
        }
    }
}
