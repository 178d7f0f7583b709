namespace Tensorlet.Backends;

/// <summary>One LSTM layer's forward recurrence buffers, as <see cref="IKernelBackend.TryLstmRecurrenceForward"/> takes them.</summary>
internal readonly record struct LstmLayerTensors(Tensor Gates, Tensor Cells, Tensor Hidden, Tensor H0, Tensor C0, bool HasInitialHidden, Tensor WeightHh);

/// <summary>One LSTM layer's backward recurrence buffers, as <see cref="IKernelBackend.TryLstmRecurrenceBackward"/> takes them.</summary>
internal readonly record struct LstmLayerGradientTensors(Tensor Gates, Tensor Cells, Tensor C0, Tensor DH, Tensor Dc, Tensor DPre, Tensor DBias, Tensor WeightHh);

/// <summary>One GRU layer's forward recurrence buffers, as <see cref="IKernelBackend.TryGruRecurrenceForward"/> takes them.</summary>
internal readonly record struct GruLayerTensors(Tensor Gi, Tensor Gh, Tensor Hidden, Tensor H0, bool HasInitialHidden, Tensor WeightHh);

/// <summary>One GRU layer's backward recurrence buffers, as <see cref="IKernelBackend.TryGruRecurrenceBackward"/> takes them.</summary>
internal readonly record struct GruLayerGradientTensors(Tensor Gates, Tensor Gh, Tensor Hidden, Tensor H0, Tensor DH, Tensor DhCarry, Tensor Dgi, Tensor Dgh, Tensor DBiasIh, Tensor DBiasHh, Tensor WeightHh);

/// <summary>One RNN layer's forward recurrence buffers, as <see cref="IKernelBackend.TryRnnRecurrenceForward"/> takes them.</summary>
internal readonly record struct RnnLayerTensors(Tensor Pre, Tensor Hidden, Tensor H0, bool HasInitialHidden, Tensor WeightHh);

/// <summary>One RNN layer's backward recurrence buffers, as <see cref="IKernelBackend.TryRnnRecurrenceBackward"/> takes them.</summary>
internal readonly record struct RnnLayerGradientTensors(Tensor Hidden, Tensor DH, Tensor DPre, Tensor DBias, Tensor WeightHh);
