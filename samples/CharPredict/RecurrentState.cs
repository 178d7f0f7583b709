using System.Globalization;
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
            _ => (null, null),
        };
        if (hiddenState is null)
        {
            return null;
        }

        return new RecurrentState(
            [.. hiddenState.Select(t => t.ToArray())], cellState is null ? null : [.. cellState.Select(t => t.ToArray())], hiddenState[0].Shape[0], hiddenState[0].Shape[1]);
    }

    /// <summary>Writes the state as safetensors (<c>h_l0</c>, <c>c_l0</c>, ...), atomically.</summary>
    public void Save(string path)
    {
        var tensors = hidden.Select((h, k) => new SafeTensor(Name("h", k), [batch, hiddenSize], h));
        if (cell is not null)
        {
            tensors = tensors.Concat(cell.Select((c, k) => new SafeTensor(Name("c", k), [batch, hiddenSize], c)));
        }

        SafeTensorsFile.Write(path, tensors);
    }

    /// <summary>Reads the state saved at <paramref name="path"/> into <paramref name="model"/>, which carries it into its next batch of <paramref name="batch"/> streams.</summary>
    /// <exception cref="CheckpointException">The file is unreadable or of other sizes.</exception>
    public static void Load(string path, ICharModel model, int batch)
    {
        var file = SafeTensorsFile.Read(path);
        switch (model)
        {
            case LstmCharModel lstm:
                {
                    using var state = lstm.Lstm.CreateState(model.Device, batch);
                    Fill(file, "h", state.Hidden, lstm.HiddenSize);
                    Fill(file, "c", state.Cell, lstm.HiddenSize);
                    lstm.Lstm.CarryFrom(state);
                    break;
                }

            case GruCharModel gru:
                {
                    using var state = gru.Gru.CreateState(model.Device, batch);
                    Fill(file, "h", state.Hidden, gru.HiddenSize);
                    gru.Gru.CarryFrom(state);
                    break;
                }

            default:
                throw new CheckpointException($"{path} holds a recurrent state, but the model is not recurrent.");
        }
    }

    private static void Fill(SafeTensorsFile file, string part, IReadOnlyList<Tensor> tensors, int hiddenSize)
    {
        for (int k = 0; k < tensors.Count; k++)
        {
            tensors[k].CopyFrom(file.Get(Name(part, k), tensors[k].Shape[0], hiddenSize).Data);
        }
    }

    private static string Name(string part, int layer) => string.Create(CultureInfo.InvariantCulture, $"{part}_l{layer}");
}
