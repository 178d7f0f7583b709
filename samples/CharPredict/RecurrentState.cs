using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The recurrent state a stateful run carries from one batch to the next (per layer h, and an LSTM's c, each [B, H]),
/// copied to the host when the run saves in the middle of an epoch, and given back to the model when it resumes there,
/// so that the resumed batches see exactly the state the uninterrupted run would have.
/// </summary>
internal sealed class RecurrentState
{
    private readonly float[][] hidden;
    private readonly float[][]? cell;
    private readonly int batch;
    private readonly int hiddenSize;

    private RecurrentState(float[][] hidden, float[][]? cell, int batch, int hiddenSize)
    {
        this.hidden = hidden;
        this.cell = cell;
        this.batch = batch;
        this.hiddenSize = hiddenSize;
    }

    /// <summary>The state <paramref name="model"/> carries now; null when it carries none (or is not recurrent).</summary>
    public static RecurrentState? Of(ICharModel model)
    {
        var (hiddenState, cellState) = model switch
        {
            LstmCharModel lstm when lstm.Lstm.FinalState is { } s => (s.Hidden, s.Cell),
            GruCharModel gru when gru.Gru.FinalState is { } s => (s.Hidden, (IReadOnlyList<Tensor>?)null),
            ElmanCharModel rnn when rnn.Rnn.FinalState is { } s => (s.Hidden, (IReadOnlyList<Tensor>?)null),
            _ => (null, null),
        };
        if (hiddenState is null)
        {
            return null;
        }

        return new RecurrentState(
            [.. hiddenState.Select(t => t.ToArray())], cellState is null ? null : [.. cellState.Select(t => t.ToArray())], hiddenState[0].Shape[0], hiddenState[0].Shape[1]);
    }

    /// <summary>
    /// Writes the state atomically: the int32s layers, batch, hidden size and parts (1 for h, 2 for h and c), then every
    /// tensor's float32s (h per layer, then c per layer), little-endian.
    /// </summary>
    public void Save(string path)
    {
        var parts = cell is null ? new[] { hidden } : [hidden, cell];
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(hidden.Length);
            writer.Write(batch);
            writer.Write(hiddenSize);
            writer.Write(parts.Length);
            foreach (var value in parts.SelectMany(p => p).SelectMany(t => t))
            {
                writer.Write(value);
            }
        });
    }

    /// <summary>Reads the state saved at <paramref name="path"/> into <paramref name="model"/>, which carries it into its next batch of <paramref name="batch"/> streams.</summary>
    /// <exception cref="CheckpointException">The file is unreadable or of other sizes.</exception>
    public static void Load(string path, ICharModel model, int batch)
    {
        using RnnState state = model switch
        {
            LstmCharModel lstm => lstm.Lstm.CreateState(model.Device, batch),
            GruCharModel gru => gru.Gru.CreateState(model.Device, batch),
            ElmanCharModel rnn => rnn.Rnn.CreateState(model.Device, batch),
            _ => throw new CheckpointException($"{path} holds a recurrent state, but the model is not recurrent."),
        };
        var tensors = state is LstmState l ? l.Hidden.Concat(l.Cell).ToArray() : [.. state.Hidden];
        int hiddenSize = tensors[0].Shape[1];
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            int[] header = [reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()];
            int[] expected = [state.Hidden.Count, batch, hiddenSize, tensors.Length / state.Hidden.Count];
            if (!header.SequenceEqual(expected) || reader.BaseStream.Length != 16 + ((long)tensors.Length * batch * hiddenSize * sizeof(float)))
            {
                throw new CheckpointException($"{path} holds a state of {string.Join("x", header)} (layers x batch x hidden x parts) in {reader.BaseStream.Length} bytes; the run needs {string.Join("x", expected)}.");
            }

            var values = new float[batch * hiddenSize];
            foreach (var tensor in tensors)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = reader.ReadSingle();
                }

                tensor.CopyFrom(values);
            }
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException($"{path} is truncated: {e.Message}", e);
        }

        ((RnnBase)((Sequential)model)[0]).CarryFrom(state);
    }
}
