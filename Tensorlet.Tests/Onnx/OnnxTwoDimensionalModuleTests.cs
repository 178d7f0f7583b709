using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Onnx;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Onnx;

/// <summary>
/// <see cref="ModuleExporter"/> and the 2-d modules, which it does not export yet: a model holding one is refused in one
/// line naming the module, its type and its place, as any module without an ONNX export is, and nothing is written.
/// </summary>
public sealed class OnnxTwoDimensionalModuleTests
{
    private static IEnumerable<TestCaseData> Modules()
    {
        yield return new TestCaseData((Func<Module>)(() => new MaxPool2d(2)), "MaxPool2d").SetArgDisplayNames("MaxPool2d");
        yield return new TestCaseData((Func<Module>)(() => new AvgPool2d((2, 3))), "AvgPool2d").SetArgDisplayNames("AvgPool2d");
        yield return new TestCaseData((Func<Module>)(() => new AdaptiveMaxPool2d(1)), "AdaptiveMaxPool2d").SetArgDisplayNames("AdaptiveMaxPool2d");
        yield return new TestCaseData((Func<Module>)(() => new AdaptiveAvgPool2d((2, 2))), "AdaptiveAvgPool2d").SetArgDisplayNames("AdaptiveAvgPool2d");
        yield return new TestCaseData((Func<Module>)(() => new BatchNorm2d(3)), "BatchNorm2d").SetArgDisplayNames("BatchNorm2d");
    }

    [TestCaseSource(nameof(Modules))]
    public void AModelHoldingATwoDimensionalModuleIsRefusedInOneLineNamingIt(Func<Module> make, string name)
    {
        using var model = new Sequential(("fc", new Linear(6, 6)), ("layer", make()));
        model.Build(TestDevices.Get("cpu"), seed: 1);
        var e = Assert.Throws<OnnxExportException>(() => ModuleExporter.Export(model))!;
        Assert.That(e.Message, Does.Contain($"The module Tensorlet.Nn.{name} at 'layer' has no ONNX export").And.Not.Contain('\n'));
    }
}
