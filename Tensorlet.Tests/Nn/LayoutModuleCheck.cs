using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Models;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// One call of a module that only moves elements, such as <see cref="Slice"/>: Forward is its definition exactly, and
/// Backward matches central finite differences in float64 of L = Σ w·f(x), f written by the test from its definition.
/// </summary>
internal static class LayoutModuleCheck
{
    /// <summary>
    /// Runs Forward on x [<paramref name="shape"/>] and Backward on w [<paramref name="outputShape"/>] (on call 1 as its
    /// matrix by the last dimension, as a loss gives it), x and w drawn from seeds that depend on <paramref name="call"/>
    /// (calls 0 and 2 share x).
    /// </summary>
    public static void AssertCall(Module module, Device device, int[] shape, int[] outputShape, Func<double[], double[]> definition, int call)
    {
        var x = Uniform(shape.Aggregate(1, (a, b) => a * b), (call % 2) + 1);
        var w = Uniform(outputShape.Aggregate(1, (a, b) => a * b), call + 10);
        using var input = device.FromArray(x, shape);
        var y = module.Forward(input);
        Assert.That(y.Shape, Is.EqualTo(outputShape), $"call {call}: shape");
        var expected = definition(ToDouble(x));
        Assert.That(y.ToArray(), Is.EqualTo(expected.Select(v => (float)v).ToArray()), $"call {call}: values");

        using var dy = call == 1
            ? device.FromArray(w, w.Length / outputShape[^1], outputShape[^1])
            : device.FromArray(w, outputShape);
        var dx = module.Backward(dy)!;
        Assert.That(dx.Shape, Is.EqualTo(shape), $"call {call}: dL/dx is input-shaped");
        var values = ToDouble(x);
        var weights = ToDouble(w);
        GradientCheck.MaxRelativeError(
            new() { ["x"] = values },
            new() { ["x"] = ToDouble(dx.ToArray()) },
            () => definition(values).Zip(weights, (a, b) => a * b).Sum());
    }
}
