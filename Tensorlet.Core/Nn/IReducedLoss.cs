namespace Tensorlet.Nn;

/// <summary>A library loss with PyTorch's <c>reduction</c>: the Trainer reads it to turn a batch's loss into a sum over its targets.</summary>
internal interface IReducedLoss
{
    /// <summary>Mean or sum.</summary>
    Reduction Reduction { get; }
}
