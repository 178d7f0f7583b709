using NUnit.Framework;
using Tensorlet.Models.Sampling;

namespace Tensorlet.Tests.Models;

public sealed class CharacterChoiceTests
{
    private static readonly float[] Probabilities = [0.1f, 0.4f, 0.05f, 0.3f, 0.15f];

    [Test]
    public void ArgmaxTakesTheFirstLargest()
    {
        Assert.That(CharacterChoice.Argmax(Probabilities), Is.EqualTo(1));
        Assert.That(CharacterChoice.Argmax([0.2f, 0.4f, 0.4f]), Is.EqualTo(1));
    }

    [Test]
    public void TopKDrawsOnlyTheKMostLikelyInProportion()
    {
        var scratch = new float[Probabilities.Length];
        var counts = new int[Probabilities.Length];
        const int draws = 20_000;
        var random = new Random(3);
        for (int i = 0; i < draws; i++)
        {
            counts[CharacterChoice.Draw(Probabilities, topK: 2, random.NextDouble(), scratch)]++;
        }

        // Kept: ids 1 and 3, renormalized to 4/7 and 3/7.
        Assert.That(counts[0] + counts[2] + counts[4], Is.Zero);
        Assert.That(counts[1] / (double)draws, Is.EqualTo(4.0 / 7).Within(0.015));
        Assert.That(counts[3] / (double)draws, Is.EqualTo(3.0 / 7).Within(0.015));
    }

    [Test]
    public void TheThresholdWalksTheKeptMassExactly()
    {
        var scratch = new float[Probabilities.Length];

        // Kept mass 0.85 (ids 1, 3, 4); u = 0.5 lands at 0.425: past id 1 (0.4), inside id 3.
        Assert.That(CharacterChoice.Draw(Probabilities, 3, 0.5, scratch), Is.EqualTo(3));
        Assert.That(CharacterChoice.Draw(Probabilities, 3, 0.0, scratch), Is.EqualTo(1));
        Assert.That(CharacterChoice.Draw(Probabilities, 3, 0.999999, scratch), Is.EqualTo(4));
        Assert.That(CharacterChoice.Draw(Probabilities, 1, 0.9, scratch), Is.EqualTo(1), "top-1 is the argmax");

        // k = 0 and k ≥ V keep everything: the cumulative sums are 0.1, 0.5, 0.55, so u = 0.52 lands in id 2.
        Assert.That(CharacterChoice.Draw(Probabilities, 0, 0.05, scratch), Is.EqualTo(0));
        Assert.That(CharacterChoice.Draw(Probabilities, 0, 0.52, scratch), Is.EqualTo(2));
        Assert.That(CharacterChoice.Draw(Probabilities, 9, 0.52, scratch), Is.EqualTo(2));
    }

    [Test]
    public void TiesWithTheKthMostLikelyStayIn()
    {
        var scratch = new float[4];
        float[] tied = [0.3f, 0.2f, 0.3f, 0.2f];

        // k = 1: both 0.3s are kept (nanoGPT's rule), each half the time.
        Assert.That(CharacterChoice.Draw(tied, 1, 0.25, scratch), Is.EqualTo(0));
        Assert.That(CharacterChoice.Draw(tied, 1, 0.75, scratch), Is.EqualTo(2));
    }
}
