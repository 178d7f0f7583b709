using System.Runtime.InteropServices;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Core;

public sealed class DeviceAndTensorTests
{
    [Test]
    public void UnknownDeviceNamesItAndListsTheAvailableOnes()
    {
        var ex = Assert.Throws<DeviceNotAvailableException>(() => Device.Create("tpu"));
        Assert.That(ex!.Message, Does.Contain("'tpu'").And.Contain("cpu").And.Contain("ilgpu-cpu"));
    }

    [Test]
    public void CudaWithoutAGpuSaysSoAndListsTheAvailableDevices()
    {
        if (Device.IsCudaAvailable)
        {
            Assert.Ignore("This machine has a CUDA GPU.");
        }

        var ex = Assert.Throws<DeviceNotAvailableException>(() => Device.Create("cuda"));
        Assert.That(ex!.Message, Does.Contain("cuda").And.Contain("Available devices: auto, cpu, ilgpu-cpu"));
    }

    [Test]
    public void CudaWithoutTheDriverLibrarySaysItWasNotFound()
    {
        if (NativeLibrary.TryLoad("libcuda.so", out var driver) || NativeLibrary.TryLoad("libcuda.so.1", out driver))
        {
            NativeLibrary.Free(driver);
            Assert.Ignore("This machine has a CUDA driver library.");
        }

        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("The driver library's name is checked on Linux.");
        }

        var ex = Assert.Throws<DeviceNotAvailableException>(() => Device.Create("cuda"));
        Assert.That(ex!.Message, Does.StartWith("Device 'cuda' is not available: the CUDA driver library (libcuda.so) was not found"));
    }

    [TestCase(100, "found no GPU")]
    [TestCase(34, "stub library")]
    [TestCase(35, "driver is too old")]
    [TestCase(999, "error 999")]
    public void CudaInitErrorsAreExplained(int error, string explanation)
    {
        Assert.That(CudaProbe.DescribeInitError(error), Does.Contain(explanation));
    }

    [Test]
    public void AutoPicksCudaWhenPresentElseCpu()
    {
        using var device = Device.Create("auto");
        Assert.That(device.Kind, Is.EqualTo(Device.IsCudaAvailable ? DeviceKind.Cuda : DeviceKind.Cpu));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TensorsRoundTripThroughTheHostAndSliceByRows(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float[] data = [1, 2, 3, 4, 5, 6];
        using var t = device.FromArray(data, 3, 2);
        Assert.That(t.ToArray(), Is.EqualTo(data));
        using var row = t.Slice(1, 2);
        Assert.That(row.ToArray(), Is.EqualTo(new float[] { 3, 4, 5, 6 }));
        row.CopyFrom([7, 8, 9, 10]);
        Assert.That(t.ToArray(), Is.EqualTo(new float[] { 1, 2, 7, 8, 9, 10 }));
        using var flat = t.Reshape(6);
        Assert.That(flat.Shape, Is.EqualTo(new[] { 6 }));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ATensorUsedAfterItsDeviceIsDisposedSaysSoAndCanStillBeDisposed(string deviceName)
    {
        // Before, ToArray on an ilgpu-cpu tensor after its device was disposed failed an ILGPU assertion that ended the
        // process; on cpu it read memory the device no longer vouched for.
        _ = TestDevices.Get(deviceName); // skips cuda without a GPU
        var device = Device.Create(deviceName);
        var tensor = device.FromArray([1f, 2f], 2);
        var view = tensor.Slice(1, 1);
        device.Dispose();
        string expected = $"The tensor of shape [2] on {deviceName} was used after its device was disposed; dispose a device after its tensors.";
        Assert.That(Assert.Throws<ObjectDisposedException>(() => tensor.ToArray())!.Message, Is.EqualTo(expected));
        Assert.That(Assert.Throws<ObjectDisposedException>(() => tensor.CopyFrom([3f, 4f]))!.Message, Is.EqualTo(expected));
        Assert.That(Assert.Throws<ObjectDisposedException>(() => Ops.Fill(tensor, 0f))!.Message, Is.EqualTo(expected));
        Assert.That(Assert.Throws<ObjectDisposedException>(() => view.ToArray())!.Message, Is.EqualTo(expected.Replace("[2]", "[1]")));
        Assert.That(tensor.IsDisposed, Is.True);
        Assert.That(Assert.Throws<ObjectDisposedException>(() => device.Zeros(2))!.Message, Is.EqualTo($"The {deviceName} device was used after it was disposed."));
        Assert.DoesNotThrow(() =>
        {
            view.Dispose();
            tensor.Dispose();
        });
    }

    [TestCase(int.MaxValue, 2)]
    [TestCase(65536, 32768)]
    [TestCase(3, 65536, 16384)]
    public void AShapeOfMoreElementsThanATensorHoldsIsRefusedBeforeAllocating(params int[] shape)
    {
        // Before: an OutOfMemoryException from the allocator.
        var device = TestDevices.Get("cpu");
        var ex = Assert.Throws<ArgumentException>(() => device.Zeros(shape).Dispose());
        Assert.That(ex!.Message, Does.StartWith($"Shape {Tensor.FormatShape(shape)} has more than 2,147,483,647 elements, the most a tensor holds."));
    }

    [TestCase(0, 65536, 32768)]
    [TestCase(1, int.MaxValue, int.MaxValue, int.MaxValue)]
    public void AShapeWhoseRowsHoldMoreElementsThanATensorIsRefusedEvenWithNoRows(params int[] shape)
    {
        // A [0, 65536, 32768] tensor holds nothing, but its Columns (every dimension after the first) cannot be an int.
        var device = TestDevices.Get("cpu");
        var ex = Assert.Throws<ArgumentException>(() => device.Zeros(shape).Dispose());
        Assert.That(ex!.Message, Does.StartWith($"Shape {Tensor.FormatShape(shape)} has rows of more than 2,147,483,647 elements, the most a tensor holds."));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ABatchOfZeroRowsRunsThroughALinearLayer(string deviceName)
    {
        // An empty batch, as PyTorch allows: the output has 0 rows, the gradients stay 0. Columns of a [0, 3] tensor
        // divided its length by its rows before.
        var device = TestDevices.Get(deviceName);
        using var layer = new Tensorlet.Nn.Linear(3, 2);
        layer.Build(device, seed: 1);
        using var x = device.Zeros(0, 3);
        Assert.That(x.Columns, Is.EqualTo(3));
        var y = layer.Forward(x);
        using var dy = device.Zeros(0, 2);
        var dx = layer.Backward(dy);
        Assert.Multiple(() =>
        {
            Assert.That(y.Shape, Is.EqualTo(new[] { 0, 2 }));
            Assert.That(dx!.Shape, Is.EqualTo(new[] { 0, 3 }));
            Assert.That(layer.Parameters.Gradients.ToArray(), Is.All.Zero);
        });
    }

    [Test]
    public void ShapeMismatchNamesBothShapes()
    {
        var device = TestDevices.Get("cpu");
        using var a = device.Zeros(2, 3);
        using var b = device.Zeros(4, 5);
        using var c = device.Zeros(2, 5);
        var ex = Assert.Throws<ArgumentException>(() => Ops.Gemm(a, false, b, false, c));
        Assert.That(ex!.Message, Does.Contain("[2, 3]").And.Contain("[4, 5]"));
    }

    [Test]
    public void CopyingTheWrongLengthNamesTheShape()
    {
        var device = TestDevices.Get("cpu");
        using var a = device.Zeros(2, 3);
        var ex = Assert.Throws<ArgumentException>(() => a.CopyFrom(new float[5]));
        Assert.That(ex!.Message, Does.Contain("[2, 3]"));
    }

    [Test]
    public void MixingDevicesNamesBothDevices()
    {
        var cpu = TestDevices.Get("cpu");
        var ilgpu = TestDevices.Get("ilgpu-cpu");
        using var a = cpu.Zeros(4);
        using var b = ilgpu.Zeros(4);
        var ex = Assert.Throws<InvalidOperationException>(() => Ops.Copy(a, b));
        Assert.That(ex!.Message, Is.EqualTo("Copy mixes devices: [4] on cpu, [4] on ilgpu-cpu. Copy tensors to one device first."));
    }

    [Test]
    public void MixingTwoDevicesOfOneNameSaysTheyAreSeparateInstances()
    {
        // Before, the message read "[4] on cpu, [4] on cpu", which looks like no mix at all.
        var shared = TestDevices.Get("cpu");
        using var second = Device.Create("cpu");
        using var a = shared.Zeros(4);
        using var b = second.Zeros(4);
        using var ids = second.IndexZeros(2);
        using var table = shared.Zeros(3, 4);
        using var rows = shared.Zeros(2, 4);
        const string separate = " The two cpu devices are separate Device instances (each Device.Create makes one): create one and share it.";
        Assert.That(Assert.Throws<InvalidOperationException>(() => Ops.Copy(a, b))!.Message, Is.EqualTo("Copy mixes devices: [4] on cpu, [4] on cpu. Copy tensors to one device first." + separate));
        Assert.That(Assert.Throws<InvalidOperationException>(() => Ops.GatherRows(table, ids, rows))!.Message, Does.EndWith(separate));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void UseAfterDisposeThrowsForTheTensorAndItsViews(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var t = device.Zeros(4, 2);
        var view = t.Slice(0, 2);
        long before = device.AllocatedBytes;
        t.Dispose();
        Assert.That(device.AllocatedBytes, Is.EqualTo(before - (8 * sizeof(float))));
        Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        var ex = Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        Assert.That(ex!.Message, Is.EqualTo($"The tensor of shape [2, 2] on {deviceName} was used after it (or the tensor it views) was disposed."), "one line");
    }

    [Test]
    public void NegativeDimensionsAreRejected()
    {
        var device = TestDevices.Get("cpu");
        var ex = Assert.Throws<ArgumentException>(() => device.Zeros(2, -1));
        Assert.That(ex!.Message, Does.Contain("[2, -1]"));
    }
}
