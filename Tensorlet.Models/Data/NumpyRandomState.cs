namespace Tensorlet.Models.Data;

/// <summary>
/// The part of numpy's legacy <c>np.random.RandomState(seed)</c> that scikit-learn's shuffles use: MT19937 seeded by
/// <c>init_genrand(seed)</c>, and <c>shuffle</c> of a 1-d array (Fisher–Yates from the end, each index drawn by
/// <c>random_interval</c>: 32-bit draws masked to the next power of two, rejected above the bound).
/// Checked against numpy 1.24 (the same permutations for n = 11314 with seed 0 and n = 18846 with seed 42).
/// </summary>
internal sealed class NumpyRandomState
{
    private const int StateLength = 624;
    private readonly uint[] state = new uint[StateLength];
    private int position;

    /// <summary>Seeds like <c>RandomState(seed)</c> with an integer seed.</summary>
    public NumpyRandomState(uint seed)
    {
        state[0] = seed;
        for (int i = 1; i < StateLength; i++)
        {
            state[i] = (1812433253u * (state[i - 1] ^ (state[i - 1] >> 30))) + (uint)i;
        }

        position = StateLength;
    }

    /// <summary><c>np.arange(n)</c> shuffled by <c>RandomState.shuffle</c>.</summary>
    public static int[] Permutation(int n, uint seed)
    {
        var indices = new int[n];
        for (int i = 0; i < n; i++)
        {
            indices[i] = i;
        }

        new NumpyRandomState(seed).Shuffle(indices);
        return indices;
    }

    /// <summary><c>RandomState.shuffle</c> of a 1-d array.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)RandomInterval((uint)i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The next 32-bit output of MT19937.</summary>
    public uint NextUInt32()
    {
        if (position >= StateLength)
        {
            Twist();
        }

        uint y = state[position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    // numpy's random_interval for max < 2^32: a uniform integer in [0, max].
    private uint RandomInterval(uint max)
    {
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max)
        {
        }

        return value;
    }

    private void Twist()
    {
        for (int k = 0; k < StateLength; k++)
        {
            uint y = (state[k] & 0x80000000u) | (state[(k + 1) % StateLength] & 0x7fffffffu);
            state[k] = state[(k + 397) % StateLength] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
        }

        position = 0;
    }
}
