namespace Tensorlet.Onnx;

/// <summary>The graph values a recurrent layer produces.</summary>
/// <param name="Output">The last layer's h at every step, [T, B, H].</param>
/// <param name="FinalHidden">h after the last step, per layer, [L, B, H].</param>
/// <param name="FinalCell">c after the last step, per layer, [L, B, H] (LSTM only; null for GRU).</param>
internal sealed record RecurrentOutputs(string Output, string FinalHidden, string? FinalCell);
