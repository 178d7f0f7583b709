namespace Tensorlet.Models.Modeling;

/// <summary>The two model families of the tutorial.</summary>
public enum ModelKind
{
    /// <summary>The feed-forward n-gram MLP.</summary>
    Ngram,

    /// <summary>The multi-layer LSTM.</summary>
    Lstm,
}
