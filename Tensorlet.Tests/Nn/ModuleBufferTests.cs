using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Module buffers (PyTorch's register_buffer): in the state_dict in PyTorch's order and saved and loaded with the module
/// (an int64 one as I64, exactly), but not in the ParameterCollection, so optimizers never see them.
/// </summary>
public sealed class ModuleBufferTests
{
    [Test]
    public void BuffersAreInTheStateDictInPyTorchsOrderButNotInTheParameters()
    {
        using var model = Model();
        model.Build(TestDevices.Get("cpu"), seed: 1);

        Assert.That(model.NamedBuffers.Select(b => b.Name), Is.EqualTo(new[] { "1.stat", "1.count" }));
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "1.bias", "1.stat", "1.count", "2.weight", "2.bias" }));
        Assert.That(model.Parameters.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "0.bias", "1.bias", "2.weight", "2.bias" }));
        Assert.That(model.Parameters.Length, Is.EqualTo(12 + 4 + 4 + 8 + 2));
        var stat = model.NamedBuffers[0];
        Assert.That(stat.Value.ToArray(), Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f, 0.5f }), "the initial value");
        Assert.That(stat.Shape, Is.EqualTo(new[] { 4 }));
        Assert.That(model.NamedBuffers[1].IsInt64, Is.True);
        Assert.That(model.NamedBuffers[1].Shape, Is.Empty, "a scalar");
        Assert.Throws<InvalidOperationException>(() => _ = model.NamedBuffers[1].Value);

        // An optimizer with weight decay and gradient clipping run over the parameters leave the buffers alone.
        using var adamW = new AdamW(model.Parameters, 0.1f, weightDecay: 0.5f);
        Ops.Fill(model.Parameters.Gradients, 1f);
        GradientClipping.ClipGradientNorm(model.Parameters, 0.1);
        adamW.Step();
        Assert.That(stat.Value.ToArray(), Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f, 0.5f }));
        Assert.That(model.StateDict()["1.count"].Data, Is.EqualTo(new[] { 0f }));
    }

    [Test]
    public void LoadStateDictLoadsBuffersAndRefusesABadOneBeforeWritingAnything()
    {
        using var model = Model();
        model.Build(TestDevices.Get("cpu"), seed: 1);
        var state = model.StateDict();
        state["1.stat"] = ([4], [1f, 2f, 3f, 4f]);
        state["1.count"] = ([], [7f]);
        state["0.bias"] = ([4], [9f, 9f, 9f, 9f]);
        model.LoadStateDict(state);
        Assert.That(model.NamedBuffers[0].Value.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
        Assert.That(model.StateDict()["1.count"].Data, Is.EqualTo(new[] { 7f }));

        var fraction = new Dictionary<string, (int[] Shape, float[] Data)>(state) { ["1.count"] = ([], [2.5f]), ["0.bias"] = ([4], [0f, 0f, 0f, 0f]) };
        var error = Assert.Throws<ArgumentException>(() => model.LoadStateDict(fraction))!;
        Assert.That(error.Message, Does.Contain("1.count").And.Contain("2.5"));
        var negative = new Dictionary<string, (int[] Shape, float[] Data)>(state) { ["1.count"] = ([], [-1f]), ["0.bias"] = ([4], [0f, 0f, 0f, 0f]) };
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(negative))!.Message, Does.Contain("1.count").And.Contain("-1"));
        var wrongShape = new Dictionary<string, (int[] Shape, float[] Data)>(state) { ["1.stat"] = ([3], [0f, 0f, 0f]), ["0.bias"] = ([4], [0f, 0f, 0f, 0f]) };
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(wrongShape))!.Message, Does.Contain("1.stat").And.Contain("[3]"));
        var missing = new Dictionary<string, (int[] Shape, float[] Data)>(state) { ["0.bias"] = ([4], [0f, 0f, 0f, 0f]) };
        missing.Remove("1.stat");
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadStateDict(missing))!.Message, Does.Contain("1.stat"));
        Assert.That(model.StateDict()["0.bias"].Data, Is.EqualTo(new[] { 9f, 9f, 9f, 9f }), "nothing was written");

        var (missingKeys, unexpected) = model.LoadStateDict(missing, strict: false);
        Assert.That(missingKeys, Is.EqualTo(new[] { "1.stat" }));
        Assert.That(unexpected, Is.Empty);
        Assert.That(model.NamedBuffers[0].Value.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }), "a buffer the dictionary lacks keeps its values");
    }

    [Test]
    public void ACheckpointKeepsTheBuffersAndAnInt64OneExactlyAsI64()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model();
        model.Build(device, seed: 1);
        model.NamedBuffers[0].Value.CopyFrom([1f, 2f, 3f, 4f]);
        const long count = (1L << 40) + 3; // far past float's 2^24
        model.NamedBuffers[1].Int64Values[0] = count;
        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-buffers-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path);
            var file = SafeTensorsFile.Read(path);
            Assert.That(file["1.count"].DType, Is.EqualTo(SafeTensorDType.I64));
            Assert.That(file["1.count"].Shape, Is.Empty);
            Assert.That(file["1.stat"].DType, Is.EqualTo(SafeTensorDType.F32));

            using var loaded = Model();
            loaded.Build(device, seed: 2);
            ModuleCheckpoint.Load(loaded, path);
            Assert.That(loaded.NamedBuffers[0].Value.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
            Assert.That(loaded.NamedBuffers[1].Int64Values[0], Is.EqualTo(count));
            Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));

            // A float tensor where the module keeps a count is refused unless it holds a whole number ≥ 0 (PyTorch
            // loads one), and the file without its buffers too.
            var tensors = file.Tensors.Values.Select(t => t.Name == "1.count" ? new SafeTensor("1.count", [], [2.5f]) : t).ToList();
            SafeTensorsFile.Write(path, tensors);
            var error = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(loaded, path))!;
            Assert.That(error.Message, Does.Contain("1.count").And.Contain("2.5"));
            SafeTensorsFile.Write(path, file.Tensors.Values.Where(t => t.Name != "1.stat"));
            Assert.That(Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(loaded, path))!.Message, Does.Contain("1.stat"));
            Assert.That(loaded.NamedBuffers[1].Int64Values[0], Is.EqualTo(count), "a refused load changes nothing");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ABadBufferNameOrALateRegistrationIsRefused()
    {
        Assert.Throws<ArgumentException>(() => _ = new Stat("a.b"));
        Assert.Throws<ArgumentException>(() => _ = new Stat("count"));
        using var asParameter = new Stat("bias");
        Assert.That(Assert.Throws<InvalidOperationException>(() => asParameter.Build(TestDevices.Get("cpu")))!.Message, Does.Contain("'bias'"));
        using var built = new Stat("stat");
        built.Build(TestDevices.Get("cpu"));
        Assert.Throws<InvalidOperationException>(() => built.RegisterLate());
        using var unbuilt = new Stat("stat");
        Assert.Throws<InvalidOperationException>(() => _ = unbuilt.NamedBuffers);
    }

    private static Sequential Model() => new(new Linear(3, 4), new Stat("stat"), new Linear(4, 2));

    /// <summary>The identity, with a parameter, a float buffer [4] and an int64 count.</summary>
    private sealed class Stat : Module
    {
        public Stat(string name)
        {
            RegisterBuffer(name, [4], 0.5f);
            RegisterInt64Buffer("count", []);
        }

        public void RegisterLate() => RegisterBuffer("late", [1]);

        public override Tensor Forward(Tensor input) => input;

        public override Tensor Backward(Tensor outputGradient) => outputGradient;

        protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
            => parameters.Add(JoinName(prefix, "bias"), [4], _ => 0f);
    }
}
