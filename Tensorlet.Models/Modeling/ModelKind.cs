namespace Tensorlet.Models.Modeling;

/// <summary>The model families: the tutorial's two, and the GRU and RNN variants of its recurrent model.</summary>
public enum ModelKind
{
    /// <summary>The feed-forward n-gram MLP.</summary>
    Ngram,

    /// <summary>The multi-layer LSTM.</summary>
    Lstm,

    /// <summary>The multi-layer GRU in the LSTM model's place (<see cref="GruCharModel"/>).</summary>
    Gru,

    /// <summary>The multi-layer Elman RNN (tanh) in the LSTM model's place (<see cref="ElmanCharModel"/>).</summary>
    Rnn,
}
