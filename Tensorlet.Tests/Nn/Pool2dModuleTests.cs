using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Nn.Pool1dModuleTests;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The 2-d pooling modules (<see cref="MaxPool2d"/>, <see cref="AvgPool2d"/>, <see cref="AdaptiveMaxPool2d"/>,
/// <see cref="AdaptiveAvgPool2d"/>) alone against PyTorch 1.13 (fixtures written by scripts/make_pool2d_fixtures.py;
/// see its header), outputs and input gradients, NaN included; buffer reuse; and bad sizes refused in one line naming
/// the axis. Their gradients against central finite differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class Pool2dModuleTests
{
    // variant: (the pooling, H, W, H_out, W_out), as the fixture script's VARIANTS.
    private static readonly Dictionary<string, (Func<Pool2dModule> Pool, int H, int W, int PooledH, int PooledW)> Variants = new()
    {
        ["max_square"] = (() => new MaxPool2d(3, stride: 2, padding: 1), 9, 8, 5, 4),
        ["max_rect"] = (() => new MaxPool2d((2, 3), stride: (1, 2), padding: (1, 1), dilation: (2, 1)), 7, 9, 7, 5),
        ["max_ceil"] = (() => new MaxPool2d((3, 2), stride: 2, ceilMode: true), 8, 7, 4, 4),
        ["avg_square"] = (() => new AvgPool2d(3, stride: 2, padding: 1), 9, 8, 5, 4),
        ["avg_rect_no_count"] = (() => new AvgPool2d((2, 4), stride: (2, 3), padding: (1, 2), countIncludePad: false), 7, 10, 4, 4),
        ["avg_ceil"] = (() => new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true), 8, 10, 5, 6),
        ["avg_ceil_no_count"] = (() => new AvgPool2d((3, 2), stride: (2, 3), padding: 1, ceilMode: true, countIncludePad: false), 8, 10, 5, 4),
        ["adaptive_max"] = (() => new AdaptiveMaxPool2d((3, 4)), 8, 10, 3, 4),
        ["adaptive_avg"] = (() => new AdaptiveAvgPool2d((4, 3)), 7, 11, 4, 3),
        ["global_max"] = (() => new AdaptiveMaxPool2d(1), 5, 6, 1, 1),
        ["global_avg"] = (() => new AdaptiveAvgPool2d(1), 5, 6, 1, 1),
        ["nan_max"] = (() => new MaxPool2d(2, stride: 1), 4, 5, 3, 4),
    };

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from variant in Variants.Keys
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Cases))]
    public void APoolingMatchesPyTorchOutputsAndInputGradients(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/pool2d.safetensors"));
        var (make, height, width, pooledHeight, pooledWidth) = Variants[variant];
        using var pool = make();
        pool.Build(device);
        Assert.That(pool.StateDict(), Is.Empty, "a pooling has no parameters");
        switch (pool)
        {
            case MaxPool2d max:
                Assert.That(max.OutputSize(height, width), Is.EqualTo(new Size2d(pooledHeight, pooledWidth)), "OutputSize");
                break;
            case AvgPool2d avg:
                Assert.That(avg.OutputSize(height, width), Is.EqualTo(new Size2d(pooledHeight, pooledWidth)), "OutputSize");
                break;
        }

        using var x = device.FromArray(fixture[$"{variant}.x"].Data, 2, 3, height, width);
        using var dy = device.FromArray(fixture[$"{variant}.dy"].Data, 2, 3, pooledHeight, pooledWidth);
        var y = pool.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, pooledHeight, pooledWidth }));
        var dx = pool.Backward(dy);
        Assert.That(dx.Shape, Is.EqualTo(new[] { 2, 3, height, width }));
        if (variant.StartsWith("nan", StringComparison.Ordinal))
        {
            Assert.That(y.ToArray().Count(float.IsNaN), Is.GreaterThan(0), "the fixture has NaN outputs");
            Assert.That(y.ToArray(), Is.EqualTo(fixture[$"{variant}.output"].Data), "outputs, NaN where PyTorch's are");
            Assert.That(dx.ToArray(), Is.EqualTo(fixture[$"{variant}.grad.x"].Data), "each dy routed where PyTorch routes it");
            return;
        }

        ModuleTorchParityTests.AssertClose(y.ToArray(), fixture[$"{variant}.output"].Data, 1e-5, $"{variant}.output");
        ModuleTorchParityTests.AssertClose(dx.ToArray(), fixture[$"{variant}.grad.x"].Data, 1e-4, $"{variant}.grad.x");
    }

    // A CNN's head: batch norm → relu → max pool → global average pool → flatten → linear takes any H × W, in buffers
    // reused from batch to batch, and a gradient given as rows [N·C·H_out, W_out].
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AGlobalPoolingHeadTakesAnySizeAndReusesItsBuffers(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var model = new Sequential(new BatchNorm2d(2), new Relu(), new MaxPool2d(2), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(2, 3));
        model.Build(device, seed: 2);
        foreach (var (height, width) in new[] { (6, 8), (9, 5), (2, 2) })
        {
            using var x = device.FromArray([.. Enumerable.Range(0, 2 * 2 * height * width).Select(i => MathF.Sin(i * 0.7f))], 2, 2, height, width);
            Assert.That(model.Forward(x).Shape, Is.EqualTo(new[] { 2, 3 }), $"{height} × {width}");
            using var dy = device.FromArray([.. Enumerable.Range(0, 6).Select(i => MathF.Cos(i))], 2, 3);
            Assert.That(model.Backward(dy)!.Shape, Is.EqualTo(new[] { 2, 2, height, width }));
        }

        using var pool = new AvgPool2d((1, 2));
        pool.Build(device);
        using var input = device.FromArray([.. Enumerable.Range(0, 16).Select(i => (float)i)], 2, 1, 2, 4);
        var output = pool.Forward(input);
        Assert.That(output.ToArray(), Is.EqualTo(new[] { 0.5f, 2.5f, 4.5f, 6.5f, 8.5f, 10.5f, 12.5f, 14.5f }));
        Assert.That(pool.Forward(input), Is.SameAs(output), "the output buffer is reused");
        using var rows = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 4, 2);
        Assert.That(pool.Backward(rows).ToArray(), Is.EqualTo(new[] { 0.5f, 0.5f, 1f, 1f, 1.5f, 1.5f, 2f, 2f, 2.5f, 2.5f, 3f, 3f, 3.5f, 3.5f, 4f, 4f }), "a gradient as rows [N·C·H_out, W_out]");
    }

    [Test]
    public void BadSizesAreRefusedInOneLineNamingTheLayerAndTheAxisAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var max = new MaxPool2d((3, 2), stride: 1, padding: (1, 0), dilation: (3, 1));
        using var avg = new AvgPool2d((2, 4));
        using var adaptive = new AdaptiveAvgPool2d((2, 3));
        max.Build(device);
        using var gradient = device.Zeros(1, 1, 2, 2);
        Assert.Throws<InvalidOperationException>(() => max.Backward(gradient), "Backward before Forward");

        using var rank3 = device.Zeros(2, 3, 8);
        using var emptyWidth = device.Zeros(2, 3, 4, 0);
        using var shortHeight = device.Zeros(2, 3, 4, 6);
        using var narrow = device.Zeros(2, 3, 7, 1);
        Refused(max, rank3, "MaxPool2d(kernel (3, 2), stride 1, padding (1, 0), dilation (3, 1)) takes input [N, C, H, W]");
        Refused(adaptive, emptyWidth, "AdaptiveAvgPool2d((2, 3)) takes input [N, C, H, W] with H and W at least 1");
        Refused(max, shortHeight, "needs an input height of at least 5");
        Refused(max, narrow, "needs an input width of at least 2");
        using var thin = device.Zeros(1, 1, 2, 2);
        Refused(avg, thin, "AvgPool2d(kernel (2, 4), stride (2, 4), padding 0, countIncludePad true) needs an input width of at least 4");
        using var wide = new AdaptiveMaxPool2d((1 << 15, 1 << 15));
        using var two = device.Zeros(1, 2, 1, 1);
        Refused(wide, two, "AdaptiveMaxPool2d(32768)", "N·C·H_out·W_out = 2147483648 values");
        using var huge = new AdaptiveAvgPool2d((50_000, 50_000));
        using var noRows = device.Zeros(0, 1, 4, 4);
        Refused(huge, noRows, "AdaptiveAvgPool2d(50000)", "H_out·W_out = 2500000000 values per channel");

        using var shortest = device.Zeros(2, 3, 5, 2);
        Assert.That(max.Forward(shortest).Shape, Is.EqualTo(new[] { 2, 3, 1, 1 }), "H = 5 with padding 1 fits the 7-tall window once");
        Assert.That(max.OutputSize(5, 2), Is.EqualTo(new Size2d(1, 1)));
        Assert.That(max.OutputSize(4, 1), Is.EqualTo(new Size2d(0, 0)));

        foreach (var (make, name) in new (TestDelegate, string)[]
        {
            (() => _ = new MaxPool2d(0), "A MaxPool2d's kernelSize along H must be at least 1; got 0."),
            (() => _ = new MaxPool2d((3, 0)), "A MaxPool2d's kernelSize along W must be at least 1; got 0."),
            (() => _ = new MaxPool2d(3, stride: (1, -1)), "A MaxPool2d's stride along W must be at least 1; got -1."),
            (() => _ = new MaxPool2d(3, dilation: (0, 1)), "A MaxPool2d's dilation along H must be at least 1; got 0."),
            (() => _ = new MaxPool2d((4, 2), padding: (2, 2)), "A MaxPool2d's padding along W must be at most half its kernel size along W (2 / 2 = 1); got 2."),
            (() => _ = new MaxPool2d(3, padding: (-1, 0)), "A MaxPool2d's padding along H must be at least 0; got -1."),
            (() => _ = new AvgPool2d((-2, 2)), "An AvgPool2d's kernelSize along H must be at least 1; got -2."),
            (() => _ = new AvgPool2d(3, padding: (2, 1)), "An AvgPool2d's padding along H must be at most half its kernel size along H (3 / 2 = 1); got 2."),
            (() => _ = new AdaptiveMaxPool2d((1, 0)), "An AdaptiveMaxPool2d's outputSize along W must be at least 1; got 0."),
            (() => _ = new AdaptiveAvgPool2d(-1), "An AdaptiveAvgPool2d's outputSize along H must be at least 1; got -1."),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(make)!;
            Assert.That(e.Message, Does.StartWith(name).And.Not.Contain('\n'));
        }
    }
}
