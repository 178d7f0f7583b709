using NUnit.Framework;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Forward on a disposed module throws an ObjectDisposedException that names the module (its type, and its state_dict
/// path when it is a child), not one of the tensors it freed; modules that touch no tensor of their own (Dropout in
/// eval, Slice, Flatten) throw too instead of running. A disposed input is refused in one line naming the tensor.
/// </summary>
public sealed class DisposedModuleTests
{
    private static readonly object[] Modules =
    [
        new object[] { "Linear", (Func<Module>)(() => new Linear(4, 3)), false },
        new object[] { "Embedding", (Func<Module>)(() => new Embedding(5, 4)), true },
        new object[] { "Lstm", (Func<Module>)(() => new Lstm(4, 3)), false },
        new object[] { "Gru", (Func<Module>)(() => new Gru(4, 3)), true },
        new object[] { "Rnn", (Func<Module>)(() => new Rnn(4, 3)), false },
        new object[] { "Tanh", (Func<Module>)(() => new Tanh()), false },
        new object[] { "LayerNorm", (Func<Module>)(() => new LayerNorm(4)), false },
        new object[] { "BatchNorm1d", (Func<Module>)(() => new BatchNorm1d(1)), false }, // x [2, 1, 4] is one channel
        new object[] { "Softmax", (Func<Module>)(() => new Softmax()), false },
        new object[] { "LogSoftmax", (Func<Module>)(() => new LogSoftmax()), false },
        new object[] { "Dropout", (Func<Module>)(() => new Dropout(0.5f).Eval()), false },
        new object[] { "Slice", (Func<Module>)(() => new Slice(0, 1)), false },
        new object[] { "Conv1d", (Func<Module>)(() => new Conv1d(1, 2, 3)), false }, // x [2, 1, 4] is one channel of 4
        new object[] { "Flatten", (Func<Module>)(() => new Flatten()), false },
        new object[] { "MaxPool1d", (Func<Module>)(() => new MaxPool1d(2)), false },
        new object[] { "AvgPool1d", (Func<Module>)(() => new AvgPool1d(2)), false },
        new object[] { "AdaptiveMaxPool1d", (Func<Module>)(() => new AdaptiveMaxPool1d(1)), false },
        new object[] { "AdaptiveAvgPool1d", (Func<Module>)(() => new AdaptiveAvgPool1d(1)), false },
        new object[] { "Sequential", (Func<Module>)(() => new Sequential(new Linear(4, 4), new Tanh())), false },
    ];

    [TestCaseSource(nameof(Modules))]
    public void ForwardOnADisposedModuleNamesTheModule(string type, Func<Module> create, bool indices)
    {
        var device = TestDevices.Get("cpu");
        var module = create();
        module.Build(device, seed: 1);
        using var x = device.FromArray(new float[2 * 1 * 4], 2, 1, 4);
        using var ids = device.IndexFromArray([1, 2], 2, 1);
        _ = indices ? module.Forward(ids) : module.Forward(x);
        module.Dispose();

        var ex = Assert.Throws<ObjectDisposedException>(() => _ = indices ? module.Forward(ids) : module.Forward(x));

        Assert.That(ex!.Message, Is.EqualTo($"{type} has been disposed; a module cannot run after Dispose."), "one line, naming the module");
    }

    [TestCaseSource(nameof(Modules))]
    public void ADisposedInputIsRefusedInOneLineNamingTheTensor(string type, Func<Module> create, bool indices)
    {
        var device = TestDevices.Get("cpu");
        using var module = create();
        module.Build(device, seed: 1);
        var x = device.FromArray(new float[2 * 1 * 4], 2, 1, 4);
        var ids = device.IndexFromArray([1, 2], 2, 1);
        x.Dispose();
        ids.Dispose();

        var ex = Assert.Throws<ObjectDisposedException>(() => _ = indices ? module.Forward(ids) : module.Forward(x), type);

        string shape = indices ? "[2, 1]" : "[2, 1, 4]";
        Assert.That(ex!.Message, Is.EqualTo($"The tensor of shape {shape} on cpu was used after it (or the tensor it views) was disposed."), "one line");
    }

    [Test]
    public void ForwardOnAChildOfADisposedModuleNamesItsPath()
    {
        var device = TestDevices.Get("cpu");
        var head = new Linear(4, 2);
        var model = new Sequential(("body", new Sequential(new Linear(3, 4), new Tanh())), ("head", head));
        model.Build(device, seed: 1);
        model.Dispose();
        using var x = device.FromArray(new float[2 * 3], 2, 3);
        using var hidden = device.FromArray(new float[2 * 4], 2, 4);

        var ex = Assert.Throws<ObjectDisposedException>(() => head.Forward(hidden));
        Assert.That(ex!.Message, Is.EqualTo("Linear 'head' has been disposed; a module cannot run after Dispose."));
        var inner = Assert.Throws<ObjectDisposedException>(() => ((Sequential)model[0])[0].Forward(x));
        Assert.That(inner!.Message, Is.EqualTo("Linear 'body.0' has been disposed; a module cannot run after Dispose."));
    }

    [Test]
    public void ForwardLossOnADisposedCharModelNamesTheModel()
    {
        var device = TestDevices.Get("cpu");
        var model = new LstmCharModel(device, 5, 8, 1, dropout: 0f, seed: 1);
        model.Dispose();
        using var inputs = device.IndexFromArray([1, 2, 3], 3);
        using var targets = device.IndexFromArray([2, 3, 4], 3);

        var ex = Assert.Throws<ObjectDisposedException>(() => model.ForwardLoss(inputs, targets, 1, training: false, step: 0));
        Assert.That(ex!.Message, Is.EqualTo("LstmCharModel has been disposed; a module cannot run after Dispose."));
    }
}
