using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The pooling modules (<see cref="MaxPool1d"/>, <see cref="AvgPool1d"/>, <see cref="AdaptiveMaxPool1d"/>,
/// <see cref="AdaptiveAvgPool1d"/>): Sequential(Conv1d, pooling, Tanh, Flatten, Linear) and the max poolings alone on
/// NaN against PyTorch 1.13 (fixtures written by scripts/make_pool1d_fixtures.py; see its header), the sliding poolings
/// alone with ceil_mode (scripts/make_pool1d_ceil_fixtures.py), at the tolerances of <see cref="ModuleTorchParityTests"/>,
/// a global pooling's independence of the length, buffer reuse, and bad sizes refused in one line. Their gradients against central finite differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class Pool1dModuleTests
{
    // variant: (the pooling, L, L_pool), as the fixture script's VARIANTS.
    private static readonly Dictionary<string, (Func<Module> Pool, int L, int Pooled)> Variants = new()
    {
        ["max_odd"] = (() => new MaxPool1d(2), 11, 5),
        ["max_strided"] = (() => new MaxPool1d(3, stride: 2, padding: 1, dilation: 2), 12, 5),
        ["avg_padded"] = (() => new AvgPool1d(3, stride: 2, padding: 1), 10, 5),
        ["avg_no_pad_count"] = (() => new AvgPool1d(4, stride: 3, padding: 2, countIncludePad: false), 9, 4),
        ["adaptive_max"] = (() => new AdaptiveMaxPool1d(3), 8, 3),
        ["adaptive_avg"] = (() => new AdaptiveAvgPool1d(3), 10, 3),
        ["global_max"] = (() => new AdaptiveMaxPool1d(1), 9, 1),
        ["global_avg"] = (() => new AdaptiveAvgPool1d(1), 7, 1),
    };

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from variant in Variants.Keys
        select new TestCaseData(device, variant);

    // variant: (the pooling, L, L_out), as make_pool1d_ceil_fixtures.py's VARIANTS.
    private static readonly Dictionary<string, (Func<Module> Pool, int L, int Pooled)> CeilVariants = new()
    {
        ["max_partial"] = (() => new MaxPool1d(3, stride: 2, ceilMode: true), 10, 5),
        ["max_padded_dilated"] = (() => new MaxPool1d(3, stride: 2, padding: 1, dilation: 2, ceilMode: true), 12, 6),
        ["max_dropped"] = (() => new MaxPool1d(2, stride: 3, padding: 1, ceilMode: true), 10, 4),
        ["avg_count_pad"] = (() => new AvgPool1d(3, stride: 2, padding: 1, ceilMode: true), 10, 6),
        ["avg_no_pad_count"] = (() => new AvgPool1d(3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true), 10, 6),
        ["avg_dropped"] = (() => new AvgPool1d(2, stride: 3, padding: 1, ceilMode: true), 10, 4),
        ["avg_dropped_no_count"] = (() => new AvgPool1d(4, stride: 3, padding: 2, countIncludePad: false, ceilMode: true), 10, 4),
        ["avg_short"] = (() => new AvgPool1d(4, stride: 3, ceilMode: true), 3, 1),
    };

    private static IEnumerable<TestCaseData> CeilCases() =>
        from device in TestDevices.All
        from variant in CeilVariants.Keys
        select new TestCaseData(device, variant);

    private static IEnumerable<TestCaseData> NaNCases() =>
        from device in TestDevices.All
        from variant in new[] { "nan_max", "nan_global" }
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Cases))]
    public void ASequentialWithAPoolingMatchesPyTorchOutputsGradientsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/pool1d.safetensors"));
        using var model = Model(variant);
        model.Build(device);
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "4.weight", "4.bias" }), "a pooling has no parameters");
        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, variant, [3, 2, Variants[variant].L], [3, 2]);
    }

    // NaN propagates as in PyTorch on the CPU: a window holding one gives NaN and routes its gradient to the last NaN.
    [TestCaseSource(nameof(NaNCases))]
    public void AMaxPoolingOnNaNMatchesPyTorch(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/pool1d.safetensors"));
        using Module pool = variant == "nan_max" ? new MaxPool1d(3, stride: 2, padding: 1) : new AdaptiveMaxPool1d(1);
        pool.Build(device);
        var expected = fixture[$"{variant}.output"];
        using var x = device.FromArray(fixture[$"{variant}.x"].Data, 2, 2, 8);
        using var dy = device.FromArray(fixture[$"{variant}.dy"].Data, [.. expected.Shape]);
        var y = pool.Forward(x).ToArray();
        Assert.That(y.Count(float.IsNaN), Is.GreaterThan(0), "the fixture has NaN outputs");
        Assert.That(y, Is.EqualTo(expected.Data), "outputs, NaN where PyTorch's are");
        Assert.That(pool.Backward(dy)!.ToArray(), Is.EqualTo(fixture[$"{variant}.grad.x"].Data), "each dy routed where PyTorch routes it");
    }

    // ceil_mode as PyTorch: L_out rounded up, a last window that runs past the padding (an average's divisor counting
    // the padding but not what lies past it), and a window that would start in the right padding dropped.
    [TestCaseSource(nameof(CeilCases))]
    public void ACeilModePoolingMatchesPyTorchOutputsAndInputGradients(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/pool1d_ceil.safetensors"));
        var (make, length, pooled) = CeilVariants[variant];
        using var pool = make();
        pool.Build(device);
        Assert.That(pool is MaxPool1d m ? m.OutputLength(length) : ((AvgPool1d)pool).OutputLength(length), Is.EqualTo(pooled), "OutputLength");
        using var x = device.FromArray(fixture[$"{variant}.x"].Data, 2, 3, length);
        using var dy = device.FromArray(fixture[$"{variant}.dy"].Data, 2, 3, pooled);
        var y = pool.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, pooled }));
        ModuleTorchParityTests.AssertClose(y.ToArray(), fixture[$"{variant}.output"].Data, 1e-5, $"{variant}.output");
        ModuleTorchParityTests.AssertClose(pool.Backward(dy)!.ToArray(), fixture[$"{variant}.grad.x"].Data, 1e-4, $"{variant}.grad.x");
    }

    // The char-CNN shape: conv → relu → global max pool → flatten → linear takes any length, as PyTorch's does.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AGlobalPoolingClassifierTakesAnyLengthAndReusesItsBuffers(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var model = new Sequential(new Conv1d(2, 4, 3, padding: 1), new Relu(), new AdaptiveMaxPool1d(1), new Flatten(), new Linear(4, 3));
        model.Build(device, seed: 2);
        foreach (int length in new[] { 5, 17, 1 })
        {
            using var x = device.FromArray([.. Enumerable.Range(0, 2 * 2 * length).Select(i => MathF.Sin(i * 0.7f))], 2, 2, length);
            var y = model.Forward(x);
            Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3 }), $"L = {length}");
            using var dy = device.FromArray([.. Enumerable.Range(0, 6).Select(i => MathF.Cos(i))], 2, 3);
            Assert.That(model.Backward(dy)!.Shape, Is.EqualTo(new[] { 2, 2, length }));
        }

        using var pool = new AvgPool1d(2);
        pool.Build(device);
        using var input = device.FromArray([.. Enumerable.Range(0, 12).Select(i => (float)i)], 2, 1, 6);
        var output = pool.Forward(input);
        Assert.That(output.ToArray(), Is.EqualTo(new[] { 0.5f, 2.5f, 4.5f, 6.5f, 8.5f, 10.5f }));
        Assert.That(pool.Forward(input), Is.SameAs(output), "the output buffer is reused");
        using var rows = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.That(pool.Backward(rows).ToArray(), Is.EqualTo(new[] { 0.5f, 0.5f, 1f, 1f, 1.5f, 1.5f, 2f, 2f, 2.5f, 2.5f, 3f, 3f }), "a gradient as rows [N·C, L_out]");
    }

    /// <summary>nn.AvgPool1d's and nn.AvgPool2d's positional order: kernel, stride, padding, ceil_mode, count_include_pad.</summary>
    [Test]
    public void TheAveragePoolingsTakePyTorchsArgumentOrder()
    {
        using var avg1d = new AvgPool1d(3, 1, 1, true, false);
        using var avg2d = new AvgPool2d(3, 1, 1, true, false);
        Assert.That((avg1d.CeilMode, avg1d.CountIncludePad), Is.EqualTo((true, false)));
        Assert.That((avg2d.CeilMode, avg2d.CountIncludePad), Is.EqualTo((true, false)));
    }

    [Test]
    public void BadSizesAreRefusedInOneLineNamingTheLayerAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var max = new MaxPool1d(3, stride: 1, padding: 1, dilation: 3);
        using var avg = new AvgPool1d(4);
        using var adaptive = new AdaptiveAvgPool1d(2);
        max.Build(device);
        using var gradient = device.Zeros(1, 1, 2);
        Assert.Throws<InvalidOperationException>(() => max.Backward(gradient), "Backward before Forward");

        using var rank2 = device.Zeros(3, 8);
        using var empty = device.Zeros(2, 3, 0);
        using var tooShort = device.Zeros(2, 3, 4);
        Refused(max, rank2, "MaxPool1d(kernel 3, stride 1, padding 1, dilation 3) takes input [N, C, L]");
        Refused(adaptive, empty, "AdaptiveAvgPool1d(2) takes input [N, C, L] with L at least 1");
        Refused(max, tooShort, "needs an input length of at least 5");
        using var three = device.Zeros(1, 1, 3);
        Refused(avg, three, "AvgPool1d(kernel 4, stride 4, padding 0, countIncludePad true) needs an input length of at least 4");
        using var wide = new AdaptiveMaxPool1d(1 << 30);
        using var two = device.Zeros(1, 2, 1);
        Refused(wide, two, "AdaptiveMaxPool1d(1073741824)", "N·C·L_out = 2147483648 values");

        using var shortest = device.Zeros(2, 3, 5);
        Assert.That(max.Forward(shortest).Shape, Is.EqualTo(new[] { 2, 3, 1 }), "L = 5 with padding 1 fits the 7-wide window once");
        Assert.That(max.OutputLength(5), Is.EqualTo(1));
        Assert.That(max.OutputLength(4), Is.Zero);

        // In ceil mode a window may run past the end of x, so a stride of 2 fits a 3-wide window on 2 positions.
        using var ceil = new AvgPool1d(3, stride: 2, ceilMode: true);
        ceil.Build(device);
        using var one = device.Zeros(2, 3, 1);
        Refused(ceil, one, "AvgPool1d(kernel 3, stride 2, padding 0, countIncludePad true, ceilMode true) needs an input length of at least 2");
        using var twoPositions = device.Zeros(2, 3, 2);
        Assert.That(ceil.Forward(twoPositions).Shape, Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(ceil.OutputLength(2), Is.EqualTo(1));
        using var floor = new AvgPool1d(3, stride: 2);
        Assert.That(floor.OutputLength(2), Is.Zero);

        foreach (var (make, name) in new (TestDelegate, string)[]
        {
            (() => _ = new MaxPool1d(0), "A MaxPool1d's kernelSize must be at least 1; got 0."),
            (() => _ = new MaxPool1d(3, stride: 0), "A MaxPool1d's stride must be at least 1; got 0."),
            (() => _ = new MaxPool1d(3, dilation: 0), "A MaxPool1d's dilation must be at least 1; got 0."),
            (() => _ = new MaxPool1d(4, padding: 3), "A MaxPool1d's padding must be at most half its kernel size (4 / 2 = 2); got 3."),
            (() => _ = new MaxPool1d(3, padding: -1), "A MaxPool1d's padding must be at least 0; got -1."),
            (() => _ = new AvgPool1d(-2), "An AvgPool1d's kernelSize must be at least 1; got -2."),
            (() => _ = new AvgPool1d(2, stride: -1), "An AvgPool1d's stride must be at least 1; got -1."),
            (() => _ = new AvgPool1d(3, padding: 2), "An AvgPool1d's padding must be at most half its kernel size (3 / 2 = 1); got 2."),
            (() => _ = new AdaptiveMaxPool1d(0), "An AdaptiveMaxPool1d's outputSize must be at least 1; got 0."),
            (() => _ = new AdaptiveAvgPool1d(-1), "An AdaptiveAvgPool1d's outputSize must be at least 1; got -1."),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(make)!;
            Assert.That(e.Message, Does.StartWith(name).And.Not.Contain('\n'));
        }
    }

    /// <summary>Asserts that <paramref name="pool"/> refuses <paramref name="input"/> in one line naming its shape and each of <paramref name="named"/>.</summary>
    internal static void Refused(Module pool, Tensor input, params string[] named)
    {
        var e = Assert.Throws<ArgumentException>(() => pool.Forward(input))!;
        Assert.That(e.Message, Does.Contain(input.ShapeText).And.Not.Contain('\n'));
        foreach (var part in named)
        {
            Assert.That(e.Message, Does.Contain(part));
        }
    }

    private static Sequential Model(string variant)
    {
        var (pool, _, pooled) = Variants[variant];
        return new Sequential(new Conv1d(2, 3, 3, padding: 1), pool(), new Tanh(), new Flatten(), new Linear(3 * pooled, 2));
    }
}
