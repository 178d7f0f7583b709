using NUnit.Framework;
using Tensorlet.Nn;

namespace Tensorlet.Tests.Nn;

/// <summary>The modules' view cache holds the views of at most eight shapes, evicting the one used least recently.</summary>
public sealed class RecentViewsTests
{
    [Test]
    public void ItKeepsTheMostRecentlyUsedViewsAndEvictsTheLeastRecentlyUsed()
    {
        var views = new RecentViews<string>();
        var storage = new object();
        for (int t = 1; t <= RecentViews<string>.Capacity; t++)
        {
            views.Add(storage, 0, [t, 4], $"T={t}");
        }

        Assert.That(views.Find(storage, 0, [1, 4]), Is.EqualTo("T=1"), "kept, and now the most recently used");
        views.Add(storage, 0, [9, 4], "T=9");
        Assert.That(views.Find(storage, 0, [2, 4]), Is.Null, "T=2, the least recently used, was evicted");
        Assert.That(views.Find(storage, 0, [1, 4]), Is.EqualTo("T=1"));
        Assert.That(views.Find(storage, 0, [9, 4]), Is.EqualTo("T=9"));
        for (int t = 3; t <= RecentViews<string>.Capacity; t++)
        {
            Assert.That(views.Find(storage, 0, [t, 4]), Is.EqualTo($"T={t}"));
        }

        Assert.That(views.Find(storage, 4, [1, 4]), Is.Null, "another offset");
        Assert.That(views.Find(new object(), 0, [1, 4]), Is.Null, "another buffer");
        Assert.That(views.Find(storage, 0, [1, 4, 1]), Is.Null, "another rank");

        views.Add(storage, 0, [1, 4], "T=1 again");
        Assert.That(views.Find(storage, 0, [1, 4]), Is.EqualTo("T=1 again"), "a key added again replaces its view");
        Assert.That(views.Find(storage, 0, [3, 4]), Is.EqualTo("T=3"), "and evicts nothing");
        views.Clear();
        Assert.That(views.Find(storage, 0, [1, 4]), Is.Null);
    }

    [Test]
    public void AModuleFedMoreShapesThanItKeepsStillComputesEachOne()
    {
        // Eleven lengths in turn: views are remade as they are evicted, and each output is the one a fresh module gives.
        using var device = Device.Create("cpu", 1);
        using var lstm = new Lstm(3, 4);
        lstm.Build(device, seed: 2);
        var random = new Random(5);
        for (int round = 0; round < 2; round++)
        {
            for (int steps = 1; steps <= RecentViews<Tensor>.Capacity + 3; steps++)
            {
                using var x = device.FromArray([.. Enumerable.Range(0, steps * 2 * 3).Select(_ => random.NextSingle())], steps, 2, 3);
                using var fresh = new Lstm(3, 4);
                fresh.Build(device, seed: 2);
                Assert.That(lstm.Forward(x).ToArray(), Is.EqualTo(fresh.Forward(x).ToArray()), $"T = {steps}");
            }
        }
    }
}
