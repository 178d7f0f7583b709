using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>The module tree: state_dict names, modes, building rules, and copying tensors between devices.</summary>
public sealed class ModuleTests
{
    [Test]
    public void NamesFollowPyTorchsStateDict()
    {
        using var device = Device.Create("cpu");
        using var model = new Sequential(("embed", new Embedding(5, 2)), ("rnn", new Lstm(2, 3)), ("act", new Tanh()), ("head", new Sequential(new Linear(3, 4), new Linear(4, 2))));
        model.Build(device, seed: 1);
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[]
        {
            "embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
            "head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias",
        }));
        using var lstm = new Lstm(2, 3, 2);
        lstm.Build(device);
        Assert.That(lstm.StateDict().Keys, Does.Contain("weight_hh_l1"), "a root module's names have no prefix");
    }

    [Test]
    public void TrainAndEvalReachEveryChild()
    {
        using var model = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5f)));
        model.Eval();
        Assert.That(((Sequential)model[1])[0].Training, Is.False);
        model.Train();
        Assert.That(((Sequential)model[1])[0].Training, Is.True);
    }

    [Test]
    public void ParametersTooManyForOneBufferAreRefusedBeforeAnythingIsAllocated()
    {
        // Two 32768 × 32768 weights: each fits a tensor, together (2,147,549,184 values with the biases) they do not fit
        // the one buffer all parameters share; the refusal comes before the 8 GiB the host copy would take.
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Linear(32768, 32768), new Linear(32768, 32768));
        var error = Assert.Throws<InvalidOperationException>(() => model.Build(device))!;
        Assert.That(error.Message, Is.EqualTo("The module's parameters are 2,147,549,184 values in all; they share one buffer, which holds at most 2,147,483,591."));
        Assert.That(model.IsBuilt, Is.False);
    }

    [Test]
    public void BuildingRulesGiveClearErrors()
    {
        using var device = Device.Create("cpu");
        var child = new Linear(2, 2);
        using var model = new Sequential(child);
        Assert.That(Assert.Throws<InvalidOperationException>(() => child.Build(device))!.Message, Does.Contain("child module"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => _ = model.Parameters)!.Message, Does.Contain("Build"));
        model.Build(device);
        Assert.Throws<InvalidOperationException>(() => model.Build(device));
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(new Dictionary<string, (int[], float[])> { ["0.weight"] = ([2, 2], new float[4]), ["0.bias"] = ([2], new float[2]), ["x"] = ([1], new float[1]) }))!.Message, Does.Contain("x"));
        using var activation = new Sequential(new Relu());
        using var ids = device.IndexZeros(1);
        Assert.That(Assert.Throws<NotSupportedException>(() => activation.Forward(ids))!.Message, Does.Contain("Relu takes a float tensor"));
    }

    [Test]
    public void GeluIsExactByDefaultAsInPyTorchAndRefusesAnUnknownApproximation()
    {
        using var exact = new Gelu();
        using var tanh = new Gelu(GeluApproximation.Tanh);
        Assert.That((exact.Approximate, exact.Function), Is.EqualTo((GeluApproximation.None, Activation.Gelu)));
        Assert.That((tanh.Approximate, tanh.Function), Is.EqualTo((GeluApproximation.Tanh, Activation.GeluTanh)));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Gelu((GeluApproximation)2))!;
        Assert.That(error.ParamName, Is.EqualTo("approximate"));
        Assert.That(error.Message, Is.EqualTo("GELU's approximation is None or Tanh, as nn.GELU's approximate is 'none' or 'tanh'; got 2. (Parameter 'approximate')"), "one line");
    }

    [Test]
    public void LeakyRelusSlopeIsPyTorchsDefaultOrAnyFloatButNaN()
    {
        using var leaky = new LeakyRelu();
        using var created = (LeakyRelu)ActivationModule.Create(Activation.LeakyRelu);
        using var steep = new LeakyRelu(float.NegativeInfinity);
        using var silu = new Silu();
        Assert.That((leaky.NegativeSlope, leaky.Function, created.NegativeSlope, steep.NegativeSlope), Is.EqualTo((0.01f, Activation.LeakyRelu, 0.01f, float.NegativeInfinity)));
        Assert.That(silu.Function, Is.EqualTo(Activation.Silu));
        var error = Assert.Throws<ArgumentException>(() => _ = new LeakyRelu(float.NaN))!;
        Assert.That(error.Message, Does.StartWith("LeakyRelu: the negative slope is NaN"));
        Assert.That(error.ParamName, Is.EqualTo("negativeSlope"));
    }

    // Fed its own output buffer, a LeakyRelu runs in place: with a slope of 0 or more, y's sign is x's and the gradient
    // is right (0.5 at y = 1, from x = 1); a negative slope flips the sign of x < 0, so its backward is refused in
    // one line, as PyTorch's in-place LeakyReLU refuses it, where it would give 1 instead of the slope.
    [TestCase(0.5f, false)]
    [TestCase(-0.5f, true)]
    public void ALeakyRelusBackwardAfterAnInPlaceForwardIsRightOrRefused(float slope, bool refused)
    {
        var device = TestDevices.Get("cpu");
        using var leaky = new LeakyRelu(slope);
        using var x = device.FromArray([-2f, 1f], 2);
        var own = leaky.Forward(x);
        Ops.Fill(own, -2f);
        leaky.Forward(own);
        using var dy = device.FromArray([1f, 1f], 2);
        if (refused)
        {
            var error = Assert.Throws<ArgumentException>(() => leaky.Backward(dy))!;
            Assert.That(error.Message, Does.StartWith("The LeakyRelu backward with a negative slope (-0.5) reads the forward's input x, but x is its output y"));
        }
        else
        {
            Assert.That(leaky.Backward(dy).ToArray(), Is.EqualTo(new[] { slope, slope }));
        }
    }

    [Test]
    public void AModuleAppearsOnceAndARefusedSequentialLeavesItsModulesFree()
    {
        var shared = new Linear(2, 2);
        var message = Assert.Throws<ArgumentException>(() => _ = new Sequential(shared, new Relu(), shared))!.Message;
        Assert.That(message, Does.Contain("is the child '0'").And.Contain("only once"));
        using var model = new Sequential(shared, new Relu());
        Assert.That(model[0], Is.SameAs(shared), "the refused Sequential did not keep the module");
    }

    [Test]
    public void AModuleUsedUnbuiltSaysSoAndAChildKnowsItsDevice()
    {
        using var device = Device.Create("cpu");
        using var ids = device.IndexZeros(2, 1);
        using var x = device.Zeros(2, 1, 3);
        foreach (var (module, run) in new (Module, Action<Module>)[]
        {
            (new Lstm(3, 2), m => m.Forward(x)), (new Gru(3, 2), m => m.Forward(ids)), (new Linear(3, 2), m => m.Forward(x)), (new Embedding(3, 2), m => m.Forward(ids)),
        })
        {
            using (module)
            {
                Assert.That(Assert.Throws<InvalidOperationException>(() => run(module))!.Message, Does.Contain($"The {module.GetType().Name} has not been built").And.Contain("AddModule"));
                Assert.That(Assert.Throws<InvalidOperationException>(() => _ = module.Device)!.Message, Does.Contain("has not been built"));
            }
        }

        using var model = new Sequential(new Linear(3, 2), new Relu());
        model.Build(device);
        Assert.That(model[1].Device, Is.SameAs(device));
    }

    [Test]
    public void ANonStrictLoadSkipsNamesAndKeepsWhatItLacks()
    {
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Linear(2, 3), new Relu(), new Linear(3, 1));
        model.Build(device, seed: 1);
        var kept = model.StateDict()["2.weight"].Data;
        var partial = new Dictionary<string, (int[], float[])> { ["0.weight"] = ([3, 2], [1, 2, 3, 4, 5, 6]), ["0.bias"] = ([3], [7, 8, 9]), ["head.weight"] = ([1], [0]) };

        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(partial))!.Message, Does.Contain("head.weight"));
        var (missing, unexpected) = model.LoadStateDict(partial, strict: false);
        Assert.That(missing, Is.EqualTo(new[] { "2.weight", "2.bias" }));
        Assert.That(unexpected, Is.EqualTo(new[] { "head.weight" }));
        Assert.That(model.StateDict()["0.bias"].Data, Is.EqualTo(new[] { 7f, 8f, 9f }));
        Assert.That(model.StateDict()["2.weight"].Data, Is.EqualTo(kept));

        // A shape or a length that does not fit is refused, strict or not, before anything is written.
        var wrong = new Dictionary<string, (int[], float[])> { ["0.bias"] = ([3], [0, 0, 0]), ["2.bias"] = ([1], [1, 2]) };
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(wrong, strict: false))!.Message, Does.Contain("'2.bias' [1] needs 1 values; got 2"));
        Assert.That(model.StateDict()["0.bias"].Data, Is.EqualTo(new[] { 7f, 8f, 9f }));

        // Null values are named as such, not as a shape that differs from itself.
        var nulls = new Dictionary<string, (int[], float[])> { ["0.bias"] = ([3], null!) };
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(nulls, strict: false))!.Message, Is.EqualTo("Parameter '0.bias' has no values (null)."));
    }

    // Before, 4·H past int wrapped: "Shape [-589934592, 32] has a negative dimension" at Build, and a layer buffer past
    // int threw OverflowException.
    [Test]
    public void SizesPastWhatATensorHoldsAreRefusedByName()
    {
        var lstm = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Lstm(32, 1_000_000_000))!;
        Assert.That(lstm.Message, Is.EqualTo("LSTM gates (4 × hidden_size) must fit one tensor row: hidden_size is at most 536870911; got 1000000000. (Parameter 'hiddenSize')"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Gru(32, 800_000_000));
        Assert.DoesNotThrow(() => _ = new Gru(32, 700_000_000), "3·H fits");
        using var workspace = new Workspace();
        var buffer = Assert.Throws<ArgumentOutOfRangeException>(() => workspace.Get(TestDevices.Get("cpu"), 100_000, 100_000))!;
        Assert.That(buffer.Message, Does.StartWith("A buffer of 100000 × 100000 = 10000000000 values is more than one tensor holds"));
    }

    private static IEnumerable<TestCaseData> ModuleArgumentsOutOfRange()
    {
        yield return new TestCaseData((Func<Module>)(() => new Dropout(1.5f)), "Dropout probability must be in [0, 1); got 1.5. (Parameter 'probability')").SetArgDisplayNames("Dropout");
        yield return new TestCaseData((Func<Module>)(() => new Lstm(4, 4, dropout: 1f)), "Dropout probability must be in [0, 1); got 1. (Parameter 'dropout')").SetArgDisplayNames("Lstm dropout");
        yield return new TestCaseData((Func<Module>)(() => new LayerNorm(4, epsilon: -1f)), "LayerNorm's epsilon must be a finite number ≥ 0; got -1. (Parameter 'epsilon')").SetArgDisplayNames("LayerNorm");
        yield return new TestCaseData((Func<Module>)(() => new BatchNorm1d(4, momentum: 2f)), "BatchNorm1d's momentum must be in [0, 1], or null for a cumulative average; got 2. (Parameter 'momentum')").SetArgDisplayNames("BatchNorm1d");
        yield return new TestCaseData((Func<Module>)(() => new Slice(-2, 3)), "A slice that starts 2 from the end has at most 2 elements; got 3. (Parameter 'count')").SetArgDisplayNames("Slice");
        yield return new TestCaseData((Func<Module>)(() => ActivationModule.Create((Activation)99)), "Unknown activation 99. (Parameter 'function')").SetArgDisplayNames("activation");
    }

    [TestCaseSource(nameof(ModuleArgumentsOutOfRange))]
    public void AModuleArgumentOutOfRangeIsRefusedInOneLineThatNamesIt(Func<Module> create, string message)
    {
        Assert.That(() => create().Dispose(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo(message));
    }

    // nn.Embedding(padding_idx): a negative index counts from the end, [-V, V) is the range, and the padding row is
    // drawn with the others and then zeroed, so the other rows are those of a table without padding from the same seed.
    [Test]
    public void AnEmbeddingsPaddingRowStartsAtZeroAndItsIndexCountsFromTheEnd()
    {
        var device = TestDevices.Get("cpu");
        float[] Built(Embedding embedding)
        {
            using (embedding)
            {
                return embedding.Build(device, seed: 3).Parameters.Values.ToArray();
            }
        }

        var plain = Built(new Embedding(5, 3));
        var padded = Built(new Embedding(5, 3, paddingIdx: 1));
        Assert.That(padded[3..6], Is.All.EqualTo(0f), "the padding row");
        Assert.That(plain[3..6], Is.All.Not.EqualTo(0f));
        Assert.That(padded[..3].Concat(padded[6..]), Is.EqualTo(plain[..3].Concat(plain[6..])), "the other rows");
        Assert.That(Built(new Embedding(5, 3, paddingIdx: -4)), Is.EqualTo(padded), "-4 is row 1 of 5");

        Assert.That(new Embedding(5, 3, paddingIdx: -4).PaddingIdx, Is.EqualTo(1));
        Assert.That(new Embedding(5, 3, paddingIdx: -5).PaddingIdx, Is.EqualTo(0));
        Assert.That(new Embedding(5, 3, paddingIdx: 4).PaddingIdx, Is.EqualTo(4));
        Assert.That(new Embedding(5, 3).PaddingIdx, Is.Null);
        foreach (int bad in new[] { 5, -6, int.MinValue })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Embedding(5, 3, paddingIdx: bad))!;
            Assert.That(error.Message, Is.EqualTo($"padding_idx {bad} is outside [-5, 5), the range for an Embedding of 5 rows. (Parameter 'paddingIdx')"), "one line");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AnEmbeddingRefusesAnIdOutsideItsRowsInOneLine(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var embedding = new Embedding(5, 3);
        embedding.Build(device, seed: 1);
        foreach (int bad in new[] { 5, -1 })
        {
            using var ids = device.IndexFromArray([0, bad, 1], 3);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward(ids))!;
            Assert.That(error.Message, Is.EqualTo($"Index {bad} at position 1 is outside [0, 5). (Parameter 'indices')"), "one line names the id, its position and the rows");
        }
    }

    [Test]
    public void MseLossPairsShapesThatDifferOnlyInAxesOfSizeOne()
    {
        using var device = Device.Create("cpu");
        using var mse = new MseLoss();
        using var column = device.FromArray([1f, 2f, 3f], 3, 1);
        using var flat = device.FromArray([1f, 2f, 5f], 3);
        Assert.That(mse.Forward(column, flat), Is.EqualTo(4.0 / 3).Within(1e-6), "[3, 1] against [3] pairs element by element, no broadcast");
        Assert.That(mse.Backward().ShapeText, Is.EqualTo(column.ShapeText));
        using var wide = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var tall = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        Assert.That(Assert.Throws<ArgumentException>(() => mse.Forward(wide, tall))!.Message, Does.Contain("[3, 2]"));

        // It runs every batch: after the first call it allocates nothing.
        long before = GC.GetAllocatedBytesForCurrentThread();
        mse.Forward(column, flat);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by a Forward");
    }

    [TestCase(false, 0.5f)]
    [TestCase(true, 0f)]
    public void ADropoutThatPassesItsInputOnReturnsAViewWhoseDisposalLeavesTheInput(bool training, float probability)
    {
        // In eval (or at p = 0) Dropout returned the caller's x itself, so `using var y = model.Forward(x)` disposed x.
        var device = TestDevices.Get("cpu");
        using var dropout = new Dropout(probability);
        dropout.Build(device);
        dropout.Train(training);
        using var x = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var x3 = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 2, 3);

        foreach (var input in new[] { x, x3 })
        {
            using (var y = dropout.Forward(input))
            {
                Assert.That((y.Shape, y.ToArray()), Is.EqualTo((input.Shape, input.ToArray())));
            }

            Assert.That(input.IsDisposed, Is.False);
            Assert.That(dropout.Forward(input).ToArray(), Is.EqualTo(input.ToArray()), "the next Forward makes a new view");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TensorsCopyToAnotherDevice(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var cpu = Device.Create("cpu");
        using var x = cpu.FromArray([1f, -2f, 3.5f, 0f, 7f, 8f], 2, 3);
        using var there = x.To(device);
        Assert.That(there.Device, Is.SameAs(device));
        Assert.That(there.Shape, Is.EqualTo(new[] { 2, 3 }));
        using var back = there.To(cpu);
        Assert.That(back.ToArray(), Is.EqualTo(x.ToArray()));
        using var ids = cpu.IndexFromArray([4, 0, 2], 3);
        using var idsThere = ids.To(device);
        Assert.That(idsThere.ToArray(), Is.EqualTo(new[] { 4, 0, 2 }));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ARecurrentModuleBackpropagatesOncePerForwardAndAgainAfterTheNext(string deviceName)
    {
        // Backward writes the gate gradients over the gates Forward saved; a second Backward would read them as gates.
        // H of one GEMM sliver takes the cpu's fused recurrences and, with two layers, its wavefront.
        var device = TestDevices.Get(deviceName);
        int h = GemmGeometry.Machine.Nr;
        foreach (var (name, layers) in new[] { ("lstm", 1), ("lstm", 2), ("gru", 1), ("gru", 2), ("rnn", 1), ("rnn", 2) })
        {
            using RnnBase rnn = name switch
            {
                "lstm" => new Lstm(3, h, layers),
                "gru" => new Gru(3, h, layers),
                _ => new Rnn(3, h, layers),
            };
            rnn.Build(device, seed: 5);
            var random = new Random(2);
            using var x = device.FromArray([.. Enumerable.Range(0, 4 * 2 * 3).Select(_ => random.NextSingle() - 0.5f)], 4, 2, 3);
            float[] dy = [.. Enumerable.Range(0, 4 * 2 * h).Select(_ => random.NextSingle() - 0.5f)];
            using var dyOnce = device.FromArray(dy, 4, 2, h);
            using var dyAgain = device.FromArray(dy, 4, 2, h);
            using var dyThird = device.FromArray(dy, 4, 2, h);
            rnn.Forward(x);
            var dx = rnn.Backward(dyOnce)!.ToArray();
            var once = rnn.Parameters.Gradients.ToArray();
            var twice = Assert.Throws<InvalidOperationException>(() => rnn.Backward(dyAgain))!;
            Assert.That(twice.Message, Does.Contain("already called"), $"{name} ×{layers}");
            Assert.That(rnn.Parameters.Gradients.ToArray(), Is.EqualTo(once), $"{name} ×{layers}: the refused Backward changed nothing");

            rnn.Parameters.ZeroGradients();
            rnn.Forward(x);
            Assert.That(rnn.Backward(dyThird)!.ToArray(), Is.EqualTo(dx), $"{name} ×{layers}: dL/dx after a new Forward");
            Assert.That(rnn.Parameters.Gradients.ToArray(), Is.EqualTo(once), $"{name} ×{layers}: gradients after a new Forward");
            Assert.That(once, Has.Some.Not.EqualTo(0f));
        }
    }

    private static IEnumerable<TestCaseData> WrongGradients()
    {
        // (module, its input shape or null for indices [3, 2], a gradient of the output's size with another last
        // dimension or of another size, or the output's elements in another shape of the same rank). Before, Dropout
        // took [5, 3] for a [4, 3] output and a GRU [40] for [5, 2, 4], silently; the others failed inside a kernel with
        // its own names (Gemm, ScatterAddRows, Copy, Reshape).
        yield return new TestCaseData(new Linear(3, 2), new[] { 4, 3 }, new[] { 5, 2 }, "[4, 2]").SetArgDisplayNames("Linear");
        yield return new TestCaseData(new Linear(5, 2), null, new[] { 2, 6 }, "[3, 2, 2] (or [6, 2])").SetArgDisplayNames("Linear on indices");
        yield return new TestCaseData(new Relu(), new[] { 4, 3 }, new[] { 3, 4 }, "[4, 3]").SetArgDisplayNames("Relu");
        yield return new TestCaseData(new Dropout(0.5f), new[] { 4, 3 }, new[] { 5, 3 }, "[4, 3]").SetArgDisplayNames("Dropout");
        yield return new TestCaseData(new Embedding(5, 3), null, new[] { 6, 2 }, "[3, 2, 3] (or [6, 3])").SetArgDisplayNames("Embedding");
        yield return new TestCaseData(new Lstm(3, 4), new[] { 5, 2, 3 }, new[] { 5, 8 }, "[5, 2, 4] (or [10, 4])").SetArgDisplayNames("Lstm");
        yield return new TestCaseData(new Gru(3, 4), new[] { 5, 2, 3 }, new[] { 40 }, "[5, 2, 4] (or [10, 4])").SetArgDisplayNames("Gru");
        yield return new TestCaseData(new Rnn(3, 4, bidirectional: true), new[] { 5, 2, 3 }, new[] { 5, 2, 4 }, "[5, 2, 8] (or [10, 8])").SetArgDisplayNames("bidirectional Rnn");
        yield return new TestCaseData(new Lstm(3, 4, batchFirst: true), new[] { 2, 5, 3 }, new[] { 5, 2, 4 }, "[2, 5, 4] (or [10, 4])").SetArgDisplayNames("batch-first Lstm, time-major gradient");
        yield return new TestCaseData(new Gru(3, 4), new[] { 5, 2, 3 }, new[] { 2, 5, 4 }, "[5, 2, 4] (or [10, 4])").SetArgDisplayNames("time-major Gru, batch-first gradient");
        yield return new TestCaseData(new Slice(-1, 1), new[] { 5, 2, 3 }, new[] { 2, 2, 3 }, "[1, 2, 3] (or [2, 3])").SetArgDisplayNames("Slice");
    }

    [TestCaseSource(nameof(WrongGradients))]
    public void BackwardRefusesAGradientNotShapedAsTheOutputAndChangesNothing(Module module, int[]? inputShape, int[] gradientShape, string outputText)
    {
        using var device = Device.Create("cpu");
        using var owned = module;
        module.Build(device, seed: 3);
        module.Train();
        using var early = device.Zeros(gradientShape);
        Assert.That(Assert.Throws<InvalidOperationException>(() => module.Backward(early))!.Message, Is.EqualTo($"{module.GetType().Name}.Backward was called before Forward."));

        using var x = inputShape is null ? null : device.FromArray([.. Enumerable.Range(0, inputShape.Aggregate(1, (a, b) => a * b)).Select(i => 0.1f * i)], inputShape);
        using var ids = inputShape is null ? device.IndexFromArray([0, 1, 2, 3, 4, 0], 3, 2) : null;
        Tensor Forward() => x is null ? module.Forward(ids!) : module.Forward(x);
        float[] Gradients() => module.Parameters.Length == 0 ? [] : module.Parameters.Gradients.ToArray();
        var y = Forward();
        using var wrong = device.Zeros(gradientShape);
        var before = Gradients();
        var ex = Assert.Throws<ArgumentException>(() => module.Backward(wrong))!;
        Assert.That(ex.Message, Does.StartWith($"{module.GetType().Name}.Backward takes dL/d(output) shaped as the last Forward's output, {outputText}; got {Tensor.FormatShape(gradientShape)}."));
        Assert.That(Gradients(), Is.EqualTo(before), "the refused Backward changed no gradient");

        // The output's shape and its matrix by the last dimension both pass.
        using var same = device.Zeros([.. y.Shape]);
        Assert.DoesNotThrow(() => module.Backward(same));
        Forward();
        using var matrix = device.Zeros((int)(y.Length / y.Shape[^1]), y.Shape[^1]);
        Assert.DoesNotThrow(() => module.Backward(matrix));
    }
}
