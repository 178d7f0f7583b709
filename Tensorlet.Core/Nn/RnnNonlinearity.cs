namespace Tensorlet.Nn;

/// <summary>The activation of an <see cref="Rnn"/>'s cell, as the <c>nonlinearity</c> argument of PyTorch's nn.RNN.</summary>
public enum RnnNonlinearity
{
    /// <summary><c>'tanh'</c>: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh), PyTorch's default.</summary>
    Tanh,

    /// <summary><c>'relu'</c>: h' = max(0, W_ih·x + b_ih + W_hh·h + b_hh).</summary>
    Relu,
}
