using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Models.Training;

/// <summary>
/// One training step on one batch, the only one there is: <see cref="Trainer"/> runs it for every batch, and the Bench's
/// <c>train-step</c> times it. Loads the batch into reused buffers, zeroes the gradients, runs the forward pass and the
/// loss, then the backward pass (without the inputs' gradient, which nothing reads), reads the loss back to the host
/// (which waits for the device), and, when the loss is finite, clips the gradient norm (if asked) and takes the
/// optimizer's step; when it is not, it puts the module's buffers back as they were before the Forward
/// (<see cref="BufferSnapshot"/>). A batch with no targets (every class id ignored)
/// has no loss and trains nothing: it runs neither the backward pass nor the step. Allocates nothing per step. It runs
/// as a PyTorch loop does: Forward on the inputs in the source's shape, the loss, then the loss's and the module's
/// Backward, each module in the mode it is in (the step sets none: <see cref="Trainer"/> puts a model in training once,
/// at the start).
/// </summary>
internal sealed class TrainingStep<TInput, TTarget> : IDisposable
    where TInput : unmanaged
    where TTarget : unmanaged
{
    private readonly Module module;
    private readonly object loss;
    private readonly int seed;
    private readonly IOptimizer optimizer;
    private readonly double? gradientClipNorm;
    private readonly BatchBuffers<TInput, TTarget> buffers;
    private readonly BufferSnapshot? moduleBuffers;

    /// <summary>
    /// Sizes the buffers for batches of up to <paramref name="batchSize"/> examples of <paramref name="source"/>, for a
    /// module with a loss over targets of <typeparamref name="TTarget"/> (an <c>ILoss&lt;IndexTensor&gt;</c> for int, an
    /// <c>ILoss&lt;Tensor&gt;</c> for float). The dropout masks are keyed by the step and <paramref name="seed"/>, or by a
    /// char model's own <c>DropoutSeed</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A batch of that size would not fit one buffer.</exception>
    public TrainingStep(Module module, object loss, IOptimizer optimizer, IBatchSource<TInput, TTarget> source, int batchSize, double? gradientClipNorm, int seed)
    {
        BatchTensors.CheckLoss<TTarget>(loss, nameof(loss));
        this.module = module;
        this.loss = loss;
        this.seed = seed;
        this.optimizer = optimizer;
        this.gradientClipNorm = gradientClipNorm;
        buffers = new BatchBuffers<TInput, TTarget>(optimizer.Parameters.Device!, source, batchSize);
        moduleBuffers = BufferSnapshot.For(module);
    }

    /// <summary>The targets the loss averaged over in the last <see cref="Run"/> (see <see cref="BatchTensors.TargetCount"/>).</summary>
    public int Targets { get; private set; }

    /// <summary>
    /// Trains on the examples <paramref name="examples"/> (at most the batch size) as optimizer step <paramref name="step"/>
    /// (from 1; it seeds dropout) and returns the batch's loss. A non-finite loss, or a batch with no targets (whose
    /// mean loss is NaN, as PyTorch's), leaves the weights and the optimizer's step count as they were, and the module's
    /// buffers (running statistics, which Forward updates) too.
    /// </summary>
    public double Run(ReadOnlySpan<int> examples, long step)
    {
        int n = examples.Length;
        var (inputs, targets) = buffers.Load(examples);
        optimizer.ZeroGradients();
        moduleBuffers?.Take();
        module.SetRandomState(DropoutSeed(), (ulong)step);
        var prediction = BatchTensors.Forward(module, buffers.Shaped(inputs, n));
        double value = BatchTensors.LossForward(loss, prediction, buffers.TargetsFor(targets, prediction));
        Targets = BatchTensors.TargetCount(loss, buffers.LoadedTargets.Length);
        if (Targets == 0)
        {
            moduleBuffers?.Restore();
            return value;
        }

        // The inputs are data: their gradient is read by no one, so the first module may skip it (PyTorch's inputs
        // without requires_grad).
        module.Backward(BatchTensors.LossBackward(loss), computeInputGradient: false);
        if (!double.IsFinite(value))
        {
            moduleBuffers?.Restore();
            return value;
        }

        if (gradientClipNorm is double clip)
        {
            GradientClipping.ClipGradientNorm(optimizer.Parameters, clip);
        }

        optimizer.Step();
        return value;
    }

    /// <summary>Frees the batch buffers and the buffers' snapshot (not the model or the optimizer).</summary>
    public void Dispose()
    {
        buffers.Dispose();
        moduleBuffers?.Dispose();
    }

    // A char model's masks follow its own seed, which its checkpoint keeps, so a resumed run draws the same masks.
    private ulong DropoutSeed() => module switch
    {
        RnnCharModel rnn => rnn.DropoutSeed,
        _ => (ulong)seed,
    };
}
