using NUnit.Framework;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// Evaluator.Evaluate refuses a set with nothing to score instead of reporting a NaN loss.
/// </summary>
public sealed class EvaluatorTests
{
    private const int Vocabulary = 5;

    [Test]
    public void EvaluatingAnEmptySourceIsRefused()
    {
        using var model = new LstmCharModel(TestDevices.Get("cpu"), Vocabulary, 8, 1, dropout: 0f, seed: 1);
        var empty = new SequenceBatchSource([], 6);

        var ex = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, empty));

        Assert.That(ex!.ParamName, Is.EqualTo("source"));
        Assert.That(ex.Message, Does.StartWith("The source has no examples to evaluate."));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void EvaluatingNoExamplesOfASourceIsRefused(int maxExamples)
    {
        using var model = new LstmCharModel(TestDevices.Get("cpu"), Vocabulary, 8, 1, dropout: 0f, seed: 1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.Evaluate(model, Sequences(3), maxExamples: maxExamples));

        Assert.That(ex!.ParamName, Is.EqualTo("maxExamples"));
    }

    [Test]
    public void EvaluatingSomeExamplesGivesAFiniteLossOverTheirTargets()
    {
        using var model = new LstmCharModel(TestDevices.Get("cpu"), Vocabulary, 8, 1, dropout: 0f, seed: 1);

        var result = Evaluator.Evaluate(model, Sequences(3), batchSize: 2, maxExamples: 2);

        Assert.That(result.Count, Is.EqualTo(2 * 5));
        Assert.That(double.IsFinite(result.Loss), Is.True, result.Loss.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static SequenceBatchSource Sequences(int count)
    {
        var random = new Random(2);
        return new SequenceBatchSource([.. Enumerable.Range(0, count * 6).Select(_ => random.Next(Vocabulary))], 6);
    }
}
