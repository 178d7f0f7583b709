using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>An optimizer over every parameter of a built model, as torch.optim's: zero the gradients, backpropagate, step.</summary>
public interface IOptimizer : IDisposable
{
    /// <summary>The parameters it updates.</summary>
    ParameterCollection Parameters { get; }

    /// <summary>The learning rate of the next step (schedules set it).</summary>
    float LearningRate { get; set; }

    /// <summary>How many steps have been taken.</summary>
    int StepCount { get; }

    /// <summary>Applies one update from the accumulated gradients.</summary>
    void Step();

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();
}
