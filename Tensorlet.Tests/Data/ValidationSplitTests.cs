using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class ValidationSplitTests
{
    // 1000 sequences with 100 distinct texts repeated at random places, 800 unique ones.
    private static string[] MakeSequences()
    {
        var random = new Random(7);
        var sequences = new string[1000];
        for (int i = 0; i < sequences.Length; i++)
        {
            sequences[i] = i < 800 ? $"unique {i}" : $"repeated {random.Next(100)}";
        }

        random.Shuffle(sequences);
        return sequences;
    }

    [Test]
    public void IdenticalSequencesLandOnTheSameSide()
    {
        var sequences = MakeSequences();
        var split = ValidationSplit.Create(sequences);

        var validationTexts = split.Validation.Select(i => sequences[i]).ToHashSet();
        Assert.That(split.Train.Any(i => validationTexts.Contains(sequences[i])), Is.False);
        Assert.That(split.Train.Length + split.Validation.Length, Is.EqualTo(1000));
        Assert.That(split.Train.Concat(split.Validation).Distinct().Count(), Is.EqualTo(1000));
        // 10% = 100 sequences, or just over when the last group taken is a repeated text.
        Assert.That(split.Validation.Length, Is.InRange(100, 110));
        Assert.That(split.Train, Is.Ordered.Ascending);
        Assert.That(split.Validation, Is.Ordered.Ascending);
    }

    [Test]
    public void TheSplitIsDeterministicForASeedAndChangesWithIt()
    {
        var sequences = MakeSequences();

        var first = ValidationSplit.Create(sequences, 0.1, 5).Validation;
        var again = ValidationSplit.Create(sequences, 0.1, 5).Validation;
        var other = ValidationSplit.Create(sequences, 0.1, 6).Validation;

        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }

    [Test]
    public void TheSplitIsPinnedAcrossMachines()
    {
        // SplitMix64 + Fisher-Yates (the same indices computed in Python): they must never change, or checkpoints' validation scores become incomparable.
        var sequences = Enumerable.Range(0, 20).Select(i => $"s{i}").ToArray();
        var split = ValidationSplit.Create(sequences, 0.2, 42);
        Assert.That(split.Validation, Has.Length.EqualTo(4));
        Assert.That(split.Validation, Is.EqualTo(PinnedValidation));
    }

    [Test]
    public void ZeroAndOneFractions()
    {
        var sequences = MakeSequences();
        Assert.That(ValidationSplit.Create(sequences, 0).Validation, Is.Empty);
        Assert.That(ValidationSplit.Create(sequences, 1).Train, Is.Empty);
        Assert.That(
            () => ValidationSplit.Create(sequences, 1.5),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("The validation fraction is between 0 and 1; got 1.5. (Parameter 'fraction')"));
        Assert.That(ValidationSplit.Select(sequences, [3, 1]), Is.EqualTo(new[] { sequences[3], sequences[1] }));
    }

    [Test]
    public void TailHoldsOutTheLastSequencesLikeTheNotebook()
    {
        var split = ValidationSplit.Tail(16828);
        Assert.That(split.Train, Has.Length.EqualTo(15145));
        Assert.That(split.Validation[0], Is.EqualTo(15145));
        Assert.That(split.Validation[^1], Is.EqualTo(16827));
        Assert.That(ValidationSplit.Tail(10, 0.3).Validation, Is.EqualTo(new[] { 7, 8, 9 }));
    }

    private static readonly int[] PinnedValidation = [7, 9, 15, 16];
}
