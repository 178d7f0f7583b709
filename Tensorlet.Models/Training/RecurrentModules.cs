using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>The recurrent modules of a model's tree, for the callers that set or check their state handling.</summary>
internal static class RecurrentModules
{
    /// <summary>Every <see cref="RnnBase"/> in <paramref name="model"/>'s tree, in order (the model itself first).</summary>
    public static List<RnnBase> Of(Module model)
    {
        var found = new List<RnnBase>();
        Collect(model);
        return found;

        void Collect(Module m)
        {
            if (m is RnnBase rnn)
            {
                found.Add(rnn);
            }

            foreach (var child in m.Children)
            {
                Collect(child.Value);
            }
        }
    }
}
