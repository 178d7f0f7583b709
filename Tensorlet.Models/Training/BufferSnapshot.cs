using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>
/// A copy of every buffer of a model (<see cref="Module.NamedBuffers"/>: BatchNorm1d's running statistics and count),
/// taken before a training step's Forward, which updates them as PyTorch's does, and put back when the step's loss is
/// not finite: such a step leaves the model as it was, its buffers as well as its weights, so a checkpoint saved after
/// it holds no NaN statistics. The copies are made once, float buffers on the model's device: taking and restoring
/// one allocates nothing.
/// </summary>
internal sealed class BufferSnapshot : IDisposable
{
    private readonly ModuleBuffer[] buffers;
    private readonly Tensor?[] values;
    private readonly long[]?[] counts;

    private BufferSnapshot(ModuleBuffer[] buffers)
    {
        this.buffers = buffers;
        values = new Tensor?[buffers.Length];
        counts = new long[]?[buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
        {
            var buffer = buffers[i];
            if (buffer.IsInt64)
            {
                counts[i] = new long[buffer.Int64Values.Length];
            }
            else
            {
                values[i] = buffer.Value.Device.Zeros([.. buffer.Shape]);
            }
        }
    }

    /// <summary>A snapshot of <paramref name="module"/>'s buffers; null when it has none, so a step costs nothing more.</summary>
    public static BufferSnapshot? For(Module module)
    {
        var buffers = module.NamedBuffers;
        return buffers.Count == 0 ? null : new BufferSnapshot([.. buffers]);
    }

    /// <summary>Copies every buffer's values into the snapshot.</summary>
    public void Take()
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i].IsInt64)
            {
                buffers[i].Int64Values.CopyTo(counts[i]!, 0);
            }
            else
            {
                Ops.Copy(buffers[i].Value, values[i]!);
            }
        }
    }

    /// <summary>Puts the values of the last <see cref="Take"/> back into the buffers.</summary>
    public void Restore()
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i].IsInt64)
            {
                counts[i]!.CopyTo(buffers[i].Int64Values, 0);
            }
            else
            {
                Ops.Copy(values[i]!, buffers[i].Value);
            }
        }
    }

    /// <summary>Frees the device copies.</summary>
    public void Dispose()
    {
        foreach (var value in values)
        {
            value?.Dispose();
        }
    }
}
