using NUnit.Framework;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Kernels;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Module.Backward(Tensor, bool)"/> with false: the modules that skip dL/d(input) return null, run fewer
/// kernels (the input gradient's, and only those) and accumulate the same parameter gradients bit for bit; Sequential
/// passes the flag to its first child alone; and the training step, whose inputs are data, skips the first module's
/// input gradient without changing the update.
/// </summary>
public sealed class SkippedInputGradientTests
{
    // (name, module, input shape, kernels the skipped backward leaves out, at least). The recurrent cases are dense input;
    // a two-layer unidirectional stack runs as a wavefront on the cpu, a bidirectional one direction by direction.
    private static (string Name, Func<Module> Create, int[] Input, string[] Skipped)[] Cases() =>
    [
        ("Linear", () => new Linear(5, 4), [2, 3, 5], ["Gemm"]),
        ("Conv1d", () => new Conv1d(4, 6, 3, padding: 1, groups: 2), [3, 4, 9], ["Gemm", "Gemm", "Fold1d"]),
        ("Conv1d reflect", () => new Conv1d(3, 4, 3, padding: 2, paddingMode: PaddingMode.Reflect), [2, 3, 8], ["Gemm", "Fold1d", "GatherPositionsBackward"]),
        ("Conv1d depthwise", () => new Conv1d(4, 8, 3, padding: 1, groups: 4, paddingMode: PaddingMode.Replicate), [2, 4, 7], ["DepthwiseConv1dBackwardInput", "GatherPositionsBackward"]),
        ("Conv2d", () => new Conv2d(3, 4, 3, padding: 1), [2, 3, 5, 6], ["Gemm", "Fold2d"]),
        ("Conv2d groups", () => new Conv2d(4, 6, (2, 3), stride: 2, groups: 2), [3, 4, 6, 7], ["Gemm", "Gemm", "Fold2d"]),
        ("Lstm", () => new Lstm(5, 6, 2), [4, 3, 5], ["Gemm"]),
        ("Lstm bidirectional", () => new Lstm(5, 6, 2, bidirectional: true), [4, 3, 5], ["Gemm", "Gemm"]),
        ("Gru batch-first", () => new Gru(5, 6, 1, batchFirst: true), [3, 4, 5], ["Gemm"]),
        ("Gru bidirectional", () => new Gru(5, 6, 1, bidirectional: true), [4, 3, 5], ["Gemm", "Gemm"]),
        ("Rnn", () => new Rnn(5, 6, 2), [4, 3, 5], ["Gemm"]),
        ("Rnn bidirectional", () => new Rnn(5, 6, 2, RnnNonlinearity.Relu, bidirectional: true), [4, 3, 5], ["Gemm", "Gemm"]),
        ("nested Sequential", () => new Sequential(new Sequential(new Conv2d(2, 3, 3), new Relu()), new Flatten(), new Linear(3 * 3 * 4, 2)), [2, 2, 5, 6], ["Gemm", "Fold2d"]),
    ];

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void WithoutTheInputGradientAModuleReturnsNullRunsLessAndAccumulatesTheSameParameterGradients(string deviceName)
    {
        // A device of its own: a decorator on a shared one would see other tests' kernels.
        if (deviceName == "cuda" && !Device.IsCudaAvailable)
        {
            Assert.Ignore("No CUDA GPU on this machine: the cuda variant of this test is skipped.");
        }

        using var device = Device.Create(deviceName);
        foreach (var (name, create, inputShape, skipped) in Cases())
        {
            using var module = create();
            module.Build(device, seed: 3);
            using var x = device.FromArray(ElementwiseTestData.Uniform(inputShape.Aggregate(1, (a, b) => a * b), 1), inputShape);
            var (full, fullGradients, fullCalls) = Run(module, x, computeInputGradient: true);
            module.Parameters.ZeroGradients();
            var (none, noneGradients, noneCalls) = Run(module, x, computeInputGradient: false);

            Assert.That(full, Is.EqualTo(inputShape), $"{name}: with the input gradient, it has the input's shape");
            Assert.That(none, Is.Null, $"{name}: without it, null");
            ElementwiseTestData.AssertSameBits(noneGradients, fullGradients, $"{name}: the parameter gradients");
            Assert.That(fullGradients, Has.Some.Not.EqualTo(0f), name);
            Assert.That(Without(fullCalls, noneCalls), Is.SupersetOf(skipped), $"{name}: the kernels left out, of {string.Join(", ", fullCalls)}");
        }
    }

    [Test]
    public void ASequentialPassesTheFlagToItsFirstChildAloneAndTheOthersStillGetTheirGradient()
    {
        var device = TestDevices.Get("cpu");
        var first = new FlagRecorder();
        var middle = new FlagRecorder();
        using var model = new Sequential(first, new Linear(4, 3), middle, new Linear(3, 2));
        model.Build(device, seed: 1);
        using var x = device.FromArray(ElementwiseTestData.Uniform(2 * 4, 1), 2, 4);
        using var dy = device.FromArray(ElementwiseTestData.Uniform(2 * 2, 2), 2, 2);

        model.Forward(x);
        Assert.That(model.Backward(dy, computeInputGradient: false), Is.Not.Null, "a child that does not skip returns its input gradient anyway");
        Assert.That((first.Flags, middle.Flags), Is.EqualTo((new List<bool?> { false }, new List<bool?> { true })));
        model.Forward(x);
        model.Backward(dy);
        Assert.That((first.Flags[^1], middle.Flags[^1]), Is.EqualTo((true, true)), "Backward(dy) asks every child for its input gradient");

        // A module that does not override the overload (Relu) computes its input gradient and returns it.
        using var activationFirst = new Sequential(new Relu(), new Linear(4, 2));
        activationFirst.Build(device, seed: 1);
        activationFirst.Forward(x);
        Assert.That(activationFirst.Backward(dy, computeInputGradient: false)?.Shape, Is.EqualTo(new[] { 2, 4 }));
    }

    /// <summary>
    /// Containers and the training step call Backward(dy, flag), which Sequential overrides; a subclass's override of
    /// Backward(dy) alone would be passed by, so Sequential seals it and such an override does not compile.
    /// </summary>
    [Test]
    public void ASequentialsBackwardOfTheGradientAloneIsSealed()
    {
        var backward = typeof(Sequential).GetMethod(nameof(Sequential.Backward), [typeof(Tensor)])!;
        var overload = typeof(Sequential).GetMethod(nameof(Sequential.Backward), [typeof(Tensor), typeof(bool)])!;

        Assert.That((backward.IsVirtual && backward.IsFinal, overload.IsVirtual && !overload.IsFinal), Is.EqualTo((true, true)));
    }

    /// <summary>
    /// The training step against the step written out with Backward(dy), which computes the input gradient: the same
    /// parameters bit for bit after two steps, and one GEMM fewer per step (the first module's dx), with no fold for a
    /// Conv2d first.
    /// </summary>
    [TestCase("conv2d")]
    [TestCase("linear")]
    public void TheTrainingStepSkipsTheFirstModulesInputGradientAndUpdatesTheSame(string first)
    {
        using var device = Device.Create("cpu");
        int[] inputShape = first == "conv2d" ? [2, 5, 5] : [7];
        int perExample = inputShape.Aggregate(1, (a, b) => a * b), batch = 4;
        var inputs = ElementwiseTestData.Uniform(batch * perExample, 1);
        int[] classes = [0, 2, 1, 2];
        Sequential Model() => first == "conv2d"
            ? new Sequential(new Conv2d(2, 3, 3, padding: 1), new Relu(), new Flatten(), new Linear(3 * 5 * 5, 3))
            : new Sequential(new Linear(7, 6), new Tanh(), new Linear(6, 3));

        using var stepped = Model();
        using var written = Model();
        stepped.Build(device, seed: 2);
        written.Build(device, seed: 2);
        using var loss = new CrossEntropyLoss();
        using var writtenLoss = new CrossEntropyLoss();
        using var steppedSgd = new Sgd(stepped.Parameters, 0.1f, momentum: 0.9f);
        using var writtenSgd = new Sgd(written.Parameters, 0.1f, momentum: 0.9f);
        var source = new TensorBatchSource<float, int>(inputs, inputShape, classes, []);
        using var trainingStep = new TrainingStep<float, int>(stepped, loss, steppedSgd, source, batch, gradientClipNorm: null, seed: 0);
        using var x = device.FromArray(inputs, [batch, .. inputShape]);
        using var targets = device.IndexFromArray(classes, batch);
        int[] examples = [0, 1, 2, 3];

        for (long step = 1; step <= 2; step++)
        {
            var steppedCalls = Recorded(device, () => trainingStep.Run(examples, step));
            var writtenCalls = Recorded(device, () =>
            {
                writtenSgd.ZeroGradients();
                written.SetRandomState(0, (ulong)step);
                writtenLoss.Forward(written.Forward(x), targets);
                written.Backward(writtenLoss.Backward());
                writtenSgd.Step();
            });

            Assert.That(Without(writtenCalls, steppedCalls), Is.EquivalentTo(first == "conv2d" ? ["Gemm", "Fold2d"] : new[] { "Gemm" }), $"step {step}: the kernels the training step leaves out");
            ElementwiseTestData.AssertSameBits(stepped.Parameters.Values.ToArray(), written.Parameters.Values.ToArray(), $"step {step}: the parameters");
        }
    }

    // Forward, then Backward with or without the input gradient on a fresh dy (Backward may use it as scratch): the
    // input gradient's shape (null without one), the parameter gradients, and the kernels Backward ran.
    private static (int[]? InputGradient, float[] Gradients, List<string> Calls) Run(Module module, Tensor x, bool computeInputGradient)
    {
        var y = module.Forward(x);
        using var dy = x.Device.FromArray(ElementwiseTestData.Uniform((int)y.Length, 2), [.. y.Shape]);
        Tensor? dx = null;
        var calls = Recorded(x.Device, () => dx = module.Backward(dy, computeInputGradient));
        return (dx?.Shape.ToArray(), module.Parameters.Gradients.ToArray(), calls);
    }

    private static List<string> Recorded(Device device, Action run)
    {
        KernelCallRecorder? recorder = null;
        using (device.InterceptKernels(inner => recorder = new KernelCallRecorder(inner)))
        {
            run();
        }

        return recorder!.Calls;
    }

    // The calls of `all` left once each call of `fewer` is taken out of it (as multisets), after checking that `fewer` is
    // `all` with some calls left out, in the same order.
    private static List<string> Without(List<string> all, List<string> fewer)
    {
        var left = new List<string>();
        int j = 0;
        foreach (string call in all)
        {
            if (j < fewer.Count && fewer[j] == call)
            {
                j++;
            }
            else
            {
                left.Add(call);
            }
        }

        Assert.That(j, Is.EqualTo(fewer.Count), $"[{string.Join(", ", fewer)}] is not [{string.Join(", ", all)}] with calls left out");
        return left;
    }

    // The identity, recording the flag each Backward got (null for Backward(dy)).
    private sealed class FlagRecorder : Module
    {
        public List<bool?> Flags { get; } = [];

        public override Tensor Forward(Tensor input) => input;

        public override Tensor Backward(Tensor outputGradient)
        {
            Flags.Add(null);
            return outputGradient;
        }

        public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
        {
            Flags.Add(computeInputGradient);
            return outputGradient;
        }
    }
}
