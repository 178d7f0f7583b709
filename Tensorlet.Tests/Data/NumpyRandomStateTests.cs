using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

/// <summary>numpy's legacy RandomState, as scikit-learn's shuffles use it; expected values printed by numpy 1.24.</summary>
public sealed class NumpyRandomStateTests
{
    [Test]
    public void Mt19937MatchesTheReferenceOutputs()
    {
        // MT19937 with the reference seed 5489 (numpy: RandomState(5489).randint(0, 2**32, 3, dtype=np.uint64)).
        var random = new NumpyRandomState(5489);
        Assert.That(new[] { random.NextUInt32(), random.NextUInt32(), random.NextUInt32() }, Is.EqualTo(new uint[] { 3499211612, 581869302, 3890346734 }));
    }

    [Test]
    public void ShuffleMatchesNumpy()
    {
        // x = np.arange(n); np.random.RandomState(seed).shuffle(x)
        Assert.That(NumpyRandomState.Permutation(10, 42), Is.EqualTo(new[] { 8, 1, 5, 0, 7, 2, 9, 4, 3, 6 }));

        var train = NumpyRandomState.Permutation(11314, 0);
        Assert.That(train[..5], Is.EqualTo(new[] { 5348, 2305, 6491, 2774, 256 }));
        Assert.That(train[^3..], Is.EqualTo(new[] { 9845, 10799, 2732 }));

        var all = NumpyRandomState.Permutation(18846, 42);
        Assert.That(all[..5], Is.EqualTo(new[] { 18265, 423, 7900, 14785, 5217 }));
        Assert.That(all[^3..], Is.EqualTo(new[] { 5390, 860, 15795 }));
    }
}
