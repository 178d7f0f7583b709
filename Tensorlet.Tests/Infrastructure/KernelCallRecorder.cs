using NUnit.Framework;
using Tensorlet.Backends;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>A decorator that records the name of every kernel its device runs, in order, each call begun and ended once.</summary>
internal sealed class KernelCallRecorder(IKernelBackend inner) : KernelBackendDecorator<int>(inner)
{
    /// <summary>The kernels called so far, in order.</summary>
    public List<string> Calls { get; } = [];

    protected override int Begin() => Calls.Count;

    protected override void End(string kernel, int mark)
    {
        Assert.That(mark, Is.EqualTo(Calls.Count));
        Calls.Add(kernel);
    }
}
