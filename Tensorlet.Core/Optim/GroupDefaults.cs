namespace Tensorlet.Optim;

/// <summary>
/// An optimizer's settings for the parameter groups that set none, checked by the optimizer. A null setting is one the
/// optimizer does not have: a group that sets it is refused (Adam's momentum, Sgd's betas).
/// </summary>
/// <param name="LearningRate">lr.</param>
/// <param name="WeightDecay">The weight decay.</param>
/// <param name="Momentum">μ (Sgd, RMSprop).</param>
/// <param name="Beta1">β1 (Adam, AdamW).</param>
/// <param name="Beta2">β2 (Adam, AdamW).</param>
/// <param name="Epsilon">ε (Adam, AdamW, RMSprop).</param>
/// <param name="Alpha">α (RMSprop).</param>
/// <param name="Amsgrad">amsgrad (Adam, AdamW).</param>
/// <param name="Centered">centered (RMSprop).</param>
internal readonly record struct GroupDefaults(float LearningRate, float WeightDecay, float? Momentum = null, float? Beta1 = null, float? Beta2 = null, float? Epsilon = null, float? Alpha = null, bool? Amsgrad = null, bool? Centered = null);
