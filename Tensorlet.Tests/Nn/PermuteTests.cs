using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Permute"/>, as x.permute(dims), on every device: Forward is the permuted tensor exactly, and Backward
/// matches central finite differences in float64 of L = Σ w·permute(x), with permute written here by its definition,
/// y[i₀, ..., iᵣ₋₁] = x at index i_k along dimension dims[k]. The cases cover each way the module moves the elements
/// (<see cref="PermutePlan"/>): a view, a gather of rows, a transpose, and rows reordered then a transpose. Against
/// PyTorch 1.13 (fixtures written by scripts/make_permute_fixtures.py; see its header): x.permute(dims) and its gradient
/// for ranks 2 to 4, and Embedding → Permute(0, 2, 1) → Conv1d → Permute(0, 2, 1) → Linear.
/// </summary>
public sealed class PermuteTests
{
    // name: (shape, dims), as the fixture script's CASES.
    private static readonly Dictionary<string, (int[] Shape, int[] Dims)> TorchCases = new()
    {
        ["rank2"] = ([4, 6], [1, 0]),
        ["rank3"] = ([3, 5, 4], [0, 2, 1]),
        ["rank3_negative"] = ([3, 5, 4], [-1, 0, -2]),
        ["rank4"] = ([2, 3, 4, 5], [0, 3, 1, 2]),
        ["rank4_negative"] = ([2, 3, 4, 5], [2, -4, -1, 1]),
    };

    private static readonly (int[] Shape, int[] Dims, string Plan)[] Permutations =
    [
        ([4, 6], [1, 0], "Transpose"),
        ([4, 6], [-1, -2], "Transpose"),
        ([3, 5, 4], [0, 2, 1], "Transpose"),     // an Embedding's [N, L, E] to a Conv1d's [N, E, L]
        ([3, 5, 4], [1, 0, 2], "Rows"),          // [B, T, H] ↔ [T, B, H]
        ([3, 5, 4], [2, 0, 1], "Transpose"),     // [a·b, c] transposed
        ([3, 5, 4], [1, 2, 0], "Transpose"),     // [a, b·c] transposed
        ([3, 5, 4], [2, 1, 0], "Transpose after Rows"), // rows reordered, then transposed
        ([3, 5, 4], [-3, -2, -1], "View"),
        ([3, 5, 1], [0, 2, 1], "View"),          // only a dimension of size 1 moves
        ([2, 3, 4, 5], [0, 3, 1, 2], "Transpose"),
        ([2, 3, 4, 5], [2, 0, 3, 1], "Transpose after Rows"),
        ([2, 3, 4, 5], [3, 2, 1, 0], "Transpose after Rows"),
        ([2, 3, 4, 5], [1, 3, 0, 2], "Transpose after Rows"),
        ([2, 3, 4, 5], [2, 1, 0, 3], "Rows"),
        ([2, 1, 4, 3], [3, 1, 0, 2], "Transpose"),
        ([2, 3, 2, 2, 3], [4, 2, 0, 3, 1], "Transpose after Rows"),
        ([2, 3, 2, 2, 3], [1, 3, 0, 2, 4], "Rows"),        // rows in an order that is not its own inverse
        ([7], [0], "View"),
    ];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from p in Permutations
        select new TestCaseData(device, p.Shape, p.Dims).SetArgDisplayNames(device, Tensor.FormatShape(p.Shape), $"({string.Join(", ", p.Dims)})");

    private static IEnumerable<TestCaseData> Plans() =>
        from p in Permutations
        select new TestCaseData(p.Shape, p.Dims, p.Plan).SetArgDisplayNames(Tensor.FormatShape(p.Shape), $"({string.Join(", ", p.Dims)})", p.Plan);

    [TestCaseSource(nameof(Cases))]
    public void ForwardPermutesAndBackwardMatchesFiniteDifferences(string deviceName, int[] shape, int[] dims)
    {
        var device = TestDevices.Get(deviceName);
        using var permute = new Permute(dims);
        permute.Build(device);
        int[] normalized = [.. dims.Select(d => d < 0 ? d + shape.Length : d)];
        Assert.That(permute.Dims, Is.EqualTo(normalized));

        // Inputs of one shape (the second reuses the module's buffers), one of another shape, then the first again.
        for (int call = 0; call < 5; call++)
        {
            int[] callShape = call == 3 ? [shape[0] + 1, .. shape[1..]] : shape;
            int[] outputShape = [.. normalized.Select(d => callShape[d])];
            LayoutModuleCheck.AssertCall(permute, device, callShape, outputShape, x => PermuteByDefinition(x, callShape, normalized), call);
        }
    }

    private static IEnumerable<TestCaseData> TorchRuns() =>
        from device in TestDevices.All
        from name in TorchCases.Keys
        select new TestCaseData(device, name);

    // A copy: every float of the output and of dx is PyTorch's exactly.
    [TestCaseSource(nameof(TorchRuns))]
    public void ForwardAndBackwardAreTorchsPermuteExactly(string deviceName, string name)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/permute.safetensors"));
        var (shape, dims) = TorchCases[name];
        Assert.That(fixture.Metadata[name + ".dims"], Is.EqualTo(string.Join(",", dims)));
        using var permute = new Permute(dims);
        permute.Build(device);
        using var x = device.FromArray(fixture[name + ".x"].Data, shape);
        var y = permute.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(fixture[name + ".output"].Shape));
        Assert.That(y.ToArray(), Is.EqualTo(fixture[name + ".output"].Data), "output");
        using var dy = device.FromArray(fixture[name + ".w"].Data, [.. y.Shape]);
        Assert.That(permute.Backward(dy).ToArray(), Is.EqualTo(fixture[name + ".grad.x"].Data), "grad.x");
    }

    // The brief's model: token ids [N, L] → [N, L, E] → [N, E, L] → Conv1d → [N, C, L_out] → [N, L_out, C] → Linear.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AnEmbeddingPermuteConv1dPermuteLinearModelMatchesPyTorchGradientsAndThreeAdamSteps(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/permute.safetensors"));
        using var model = new Sequential(new Embedding(7, 4), new Permute(0, 2, 1), new Conv1d(4, 3, 2), new Permute(0, 2, 1), new Linear(3, 2));
        model.Build(device);
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "2.weight", "2.bias", "4.weight", "4.bias" }), "a Permute has no parameters");
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture["model." + p.Name].Data)));
        using var ids = device.IndexFromArray(fixture["model.ids"].ToInt32Array(), 2, 5);
        using var y = device.FromArray(fixture["model.y"].Data, 2, 4, 2);
        using var mse = new MseLoss();
        model.Parameters.ZeroGradients();
        var output = model.Forward(ids);
        Assert.That(output.Shape, Is.EqualTo(new[] { 2, 4, 2 }));
        ModuleTorchParityTests.AssertClose(output.ToArray(), fixture["model.output"].Data, 1e-5, "output");
        Assert.That(mse.Forward(output, y), Is.EqualTo(fixture["model.loss"].Data[0]).Within(1e-5 * fixture["model.loss"].Data[0]), "loss");
        Assert.That(model.Backward(mse.Backward()), Is.Null, "token ids have no gradient");
        foreach (var p in model.Parameters.Parameters)
        {
            ModuleTorchParityTests.AssertClose(p.Gradient.ToArray(), fixture["model.grad." + p.Name].Data, 1e-4, "grad." + p.Name);
        }

        using var adam = new Adam(model.Parameters, 0.01f);
        ModuleTorchParityTests.AssertThreeStepsMatch(model, adam, () =>
        {
            mse.Forward(model.Forward(ids), y);
            model.Backward(mse.Backward());
        }, fixture, "model.adam3");
    }

    [TestCaseSource(nameof(Plans))]
    public void EachPermutationMovesTheElementsTheWayItsPlanSays(int[] shape, int[] dims, string expected)
    {
        int[] normalized = [.. dims.Select(d => d < 0 ? d + shape.Length : d)];
        var plan = PermutePlan.For(shape, normalized);
        var kind = plan.Kind;
        Assert.That(kind == PermuteKind.Transpose && plan.Reorders ? "Transpose after Rows" : $"{kind}", Is.EqualTo(expected));
        if (kind == PermuteKind.Transpose)
        {
            Assert.That(plan.Batch * plan.Channels * plan.Width, Is.EqualTo(shape.Aggregate(1, (a, b) => a * b)));
        }

        var device = TestDevices.Get("cpu");
        using var permute = new Permute(dims);
        permute.Build(device);
        using var x = device.FromArray(Uniform(shape.Aggregate(1, (a, b) => a * b), 3), shape);
        var first = permute.Forward(x);
        Assert.That(ReferenceEquals(first.Storage, x.Storage), Is.EqualTo(kind == PermuteKind.View), "a view of the input exactly where no element moves");
        using var other = device.FromArray(Uniform((int)x.Length, 4), shape);
        Assert.That(permute.Forward(other).Storage, Is.SameAs(kind == PermuteKind.View ? other.Storage : first.Storage), "otherwise the module's own buffer, reused");
    }

    [Test]
    public void DimsThatAreNotAPermutationAndAnInputOfAnotherRankAreRefusedInOneLine()
    {
        string[] messages =
        [
            Assert.Throws<ArgumentOutOfRangeException>(() => new Permute(0, 3, 1))!.Message,
            Assert.Throws<ArgumentOutOfRangeException>(() => new Permute(0, -4, 1))!.Message,
            Assert.Throws<ArgumentException>(() => new Permute(0, 2, -1))!.Message,
            Assert.Throws<ArgumentException>(() => new Permute())!.Message,
        ];
        Assert.That(messages[0], Does.StartWith("Permute(0, 3, 1): dim 3 is outside [-3, 3), the dimensions of the rank-3 input it permutes"));
        Assert.That(messages[1], Does.StartWith("Permute(0, -4, 1): dim -4 is outside [-3, 3)"));
        Assert.That(messages[2], Does.StartWith("Permute(0, 2, -1) names dimension 2 twice: dims must be a permutation of 0..2"));
        Assert.That(messages[3], Does.StartWith("Permute takes one dim per dimension of its input, at least one; got none."));
        Assert.That(messages, Has.All.Not.Contain('\n'));

        var device = TestDevices.Get("cpu");
        using var permute = new Permute(0, 2, 1);
        permute.Build(device);
        using var matrix = device.Zeros(4, 5);
        var e = Assert.Throws<ArgumentException>(() => permute.Forward(matrix))!;
        Assert.That(e.Message, Does.StartWith("Permute(0, 2, 1) permutes the 3 dimensions of its input but got a tensor of shape [4, 5], of rank 2.").And.Not.Contain('\n'));
        using var x = device.Zeros(2, 3, 4);
        Assert.That(permute.Forward(x).Shape, Is.EqualTo(new[] { 2, 4, 3 }), "the module goes on");
    }

    // x.permute(dims) of a row-major x, element by element.
    private static double[] PermuteByDefinition(double[] x, int[] shape, int[] dims)
    {
        int rank = shape.Length;
        var strides = new int[rank];
        for (int d = rank - 1, stride = 1; d >= 0; stride *= shape[d], d--)
        {
            strides[d] = stride;
        }

        var outputShape = dims.Select(d => shape[d]).ToArray();
        var y = new double[x.Length];
        var index = new int[rank];
        for (int e = 0; e < y.Length; e++)
        {
            int rest = e, source = 0;
            for (int k = rank - 1; k >= 0; k--)
            {
                index[k] = rest % outputShape[k];
                rest /= outputShape[k];
                source += index[k] * strides[dims[k]];
            }

            y[e] = x[source];
        }

        return y;
    }
}
