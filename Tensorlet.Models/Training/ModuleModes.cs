using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>
/// The training flag of every module of one tree, so that whatever switches a model to evaluation for a while
/// (validation, scoring, sampling) gives each module back exactly the mode it had: a layer the user put in evaluation
/// inside a model in training (a frozen <see cref="BatchNorm1d"/> whose running statistics must stay fixed) stays in
/// evaluation, where a blanket <see cref="Module.Train"/> would switch it back. The modules are listed once, when it is
/// made (a built tree does not change), and every snapshot goes into the same array: switching allocates nothing.
/// The <see cref="Trainer"/>'s validation, <see cref="Evaluator"/> and the samplers use it; a scoring loop of your own
/// calls <see cref="Eval"/> before it and <see cref="Restore"/> after it (in a <c>finally</c>).
/// </summary>
public sealed class ModuleModes
{
    private readonly Module root;
    private readonly Module[] modules;
    private readonly bool[] training;

    /// <summary>Lists the modules of <paramref name="root"/>'s tree, pre-order (each before its children).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
    public ModuleModes(Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        this.root = root;
        var all = new List<Module>();
        Collect(root);
        modules = [.. all];
        training = new bool[modules.Length];

        void Collect(Module module)
        {
            all.Add(module);
            foreach (var child in module.Children)
            {
                Collect(child.Value);
            }
        }
    }

    /// <summary>Takes a snapshot of every module's mode, then puts the whole tree in evaluation (<see cref="Module.Eval"/>).</summary>
    public void Eval()
    {
        for (int i = 0; i < modules.Length; i++)
        {
            training[i] = modules[i].Training;
        }

        root.Eval();
    }

    /// <summary>Gives every module the mode of the last snapshot.</summary>
    public void Restore()
    {
        // Pre-order: a module's Train sets its children's flags too, which their own entries, later in the array, set back.
        for (int i = 0; i < modules.Length; i++)
        {
            modules[i].Train(training[i]);
        }
    }
}
