using NUnit.Framework;

namespace Tensorlet.Tests.Core;

/// <summary>
/// The host's bound on an index buffer's values, which lets the ops reject a bad index before an ILGPU kernel
/// runs without reading the indices back: it must never be narrower than the values, and should be exact for
/// the ways buffers are written in practice.
/// </summary>
public sealed class IndexBoundsTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(8)]
    [TestCase(9)]
    [TestCase(33)]
    [TestCase(1000)]
    public void RangeOfIsTheLeastAndGreatestValue(int length)
    {
        var random = new Random(length);
        var values = Enumerable.Range(0, length).Select(_ => random.Next(-1000, 1000)).ToArray();
        if (length > 3)
        {
            // Extremes in the scalar tail and in the vector body alike.
            values[length - 1] = int.MinValue;
            values[1] = int.MaxValue;
        }

        var (min, max) = IndexBounds.RangeOf(values);

        Assert.That((min, max), Is.EqualTo(length == 0 ? (int.MaxValue, int.MinValue) : (values.Min(), values.Max())));
    }

    [Test]
    public void ANewBufferHoldsZeros()
    {
        var bounds = new IndexBounds(10);
        Assert.That(bounds.Of(0, 10), Is.EqualTo((0, 0)));
        Assert.That(bounds.Of(3, 0), Is.EqualTo((int.MaxValue, int.MinValue)), "an empty range bounds nothing");
    }

    [Test]
    public void ACopyIntoPartOfARegionIsExactThereAndLeavesTheRestItsOldBound()
    {
        var bounds = new IndexBounds(10);
        bounds.Record(0, 10, -3, 50);
        bounds.Record(2, 3, 1, 2);

        Assert.That(bounds.Of(2, 3), Is.EqualTo((1, 2)));
        Assert.That(bounds.Of(3, 1), Is.EqualTo((1, 2)));
        Assert.That(bounds.Of(0, 2), Is.EqualTo((-3, 50)));
        Assert.That(bounds.Of(5, 5), Is.EqualTo((-3, 50)));
        Assert.That(bounds.Of(1, 3), Is.EqualTo((-3, 50)));
    }

    [Test]
    public void ACopyOverSeveralRegionsReplacesThem()
    {
        var bounds = new IndexBounds(12);
        bounds.Record(0, 4, -9, -9);
        bounds.Record(4, 4, 99, 99);
        bounds.Record(8, 4, 7, 7);

        bounds.Record(2, 8, 3, 4);

        Assert.That(bounds.Of(2, 8), Is.EqualTo((3, 4)));
        Assert.That(bounds.Of(0, 2), Is.EqualTo((-9, -9)));
        Assert.That(bounds.Of(10, 2), Is.EqualTo((7, 7)));
    }

    [Test]
    public void ForgetMakesARegionUnbounded()
    {
        var bounds = new IndexBounds(4);
        bounds.Forget(1, 2);
        Assert.That(bounds.Of(1, 1), Is.EqualTo((int.MinValue, int.MaxValue)));
        Assert.That(bounds.Of(3, 1), Is.EqualTo((0, 0)));
    }

    [Test]
    public void APassedTargetCheckAnswersOnlyItselfAndOnlyUntilTheNextWrite()
    {
        var bounds = new IndexBounds(8);
        bounds.RememberPassedTargets(bounds.Writes, 2, 4, classes: 3, ignoreIndex: -100, counted: 3);

        Assert.That(bounds.CountedIfPassed(2, 4, 3, -100), Is.EqualTo(3));
        Assert.That(bounds.CountedIfPassed(2, 3, 3, -100), Is.Null, "another range");
        Assert.That(bounds.CountedIfPassed(2, 4, 2, -100), Is.Null, "fewer classes");
        Assert.That(bounds.CountedIfPassed(2, 4, 3, null), Is.Null, "no ignore index");
        Assert.That(bounds.CountedIfPassed(2, 4, 3, -1), Is.Null, "another ignore index");

        bounds.Record(7, 1, 0, 0);
        Assert.That(bounds.CountedIfPassed(2, 4, 3, -100), Is.Null, "a write elsewhere in the buffer drops it");

        bounds.RememberPassedTargets(bounds.Writes, 2, 4, classes: 3, ignoreIndex: -100, counted: 3);
        bounds.Forget(0, 1);
        Assert.That(bounds.CountedIfPassed(2, 4, 3, -100), Is.Null, "a kernel's write drops it");
    }

    // Another thread's write can land while targets are read back and checked: the check saw values that may no longer
    // be there, so neither its pass nor the range it read may outlive that write.
    [Test]
    public void AWriteDuringAReadBackKeepsItsBoundAndDropsTheCheck()
    {
        var bounds = new IndexBounds(8);
        long before = bounds.Writes;
        bounds.Record(0, 8, -100, 50); // the write, between the read and what the reader learned from it
        bounds.Narrow(before, 0, 8, -100, 2);
        bounds.RememberPassedTargets(before, 0, 8, classes: 3, ignoreIndex: -100, counted: 5);

        Assert.That(bounds.Of(0, 8), Is.EqualTo((-100, 50)), "the write's bound stands");
        Assert.That(bounds.CountedIfPassed(0, 8, 3, -100), Is.Null, "the check is not remembered");

        before = bounds.Writes;
        bounds.Narrow(before, 0, 8, -100, 2);
        bounds.RememberPassedTargets(before, 0, 8, classes: 3, ignoreIndex: -100, counted: 5);
        Assert.That(bounds.Of(0, 8), Is.EqualTo((-100, 2)), "with no write in between, the read narrows the bound");
        Assert.That(bounds.CountedIfPassed(0, 8, 3, -100), Is.EqualTo(5));
    }

    [Test]
    public void TheBoundAlwaysHoldsTheValuesThroughManySmallCopies()
    {
        // Enough copies to force merging; a shadow array holds the true values.
        const int length = 64;
        var random = new Random(17);
        var shadow = new int[length];
        var bounds = new IndexBounds(length);
        for (int copy = 0; copy < 2000; copy++)
        {
            int start = random.Next(length);
            int count = random.Next(1, Math.Min(8, length - start) + 1);
            var values = Enumerable.Range(0, count).Select(_ => random.Next(10) == 0 ? random.Next(-50, 100) : random.Next(10)).ToArray();
            values.CopyTo(shadow, start);
            var (min, max) = IndexBounds.RangeOf(values);
            bounds.Record(start, count, min, max);
            Assert.That(bounds.Of(start, count), Is.EqualTo((min, max)), "the region just copied is exact");

            int queryStart = random.Next(length);
            int queryCount = random.Next(1, length - queryStart + 1);
            var (boundMin, boundMax) = bounds.Of(queryStart, queryCount);
            var query = shadow.AsSpan(queryStart, queryCount);
            Assert.That(boundMin, Is.LessThanOrEqualTo(IndexBounds.RangeOf(query).Min), $"after copy {copy}");
            Assert.That(boundMax, Is.GreaterThanOrEqualTo(IndexBounds.RangeOf(query).Max), $"after copy {copy}");
        }
    }
}
