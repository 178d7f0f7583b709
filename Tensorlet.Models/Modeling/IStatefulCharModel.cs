namespace Tensorlet.Models.Modeling;

/// <summary>A char model whose recurrent state the <see cref="Training.Trainer"/> can carry from batch to batch.</summary>
internal interface IStatefulCharModel : ICharModel
{
    /// <summary>Whether each forward pass starts from the state the previous one ended with (its gradient cut).</summary>
    bool CarryState { get; set; }

    /// <summary>Forgets the carried state: the next forward pass starts from zeros.</summary>
    void ResetState();
}
