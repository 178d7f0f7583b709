namespace Tensorlet.Kernels;

/// <summary>Four 32-bit random words: one Philox4x32 output block.</summary>
/// <param name="X0">Word 0.</param>
/// <param name="X1">Word 1.</param>
/// <param name="X2">Word 2.</param>
/// <param name="X3">Word 3.</param>
internal readonly record struct PhiloxBlock(uint X0, uint X1, uint X2, uint X3)
{
    /// <summary>Word <paramref name="lane"/> (0 to 3).</summary>
    public uint this[int lane] => lane switch
    {
        0 => X0,
        1 => X1,
        2 => X2,
        _ => X3,
    };
}

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
/// generator, so element k of a stream can be drawn without drawing elements 0..k−1, by any thread on any device.
/// Plain uint arithmetic only, so the same code runs inside ILGPU kernels (CUDA and CPU accelerator) and in C#,
/// and gives the same bits everywhere. Checked against Random123's known-answer vectors.
/// </summary>
internal static class Philox
{
    /// <summary>The first round multiplier.</summary>
    public const uint Multiplier0 = 0xD2511F53;

    /// <summary>The second round multiplier.</summary>
    public const uint Multiplier1 = 0xCD9E8D57;

    /// <summary>The first key increment (the golden ratio).</summary>
    public const uint Weyl0 = 0x9E3779B9;

    /// <summary>The second key increment (√3 − 1).</summary>
    public const uint Weyl1 = 0xBB67AE85;

    /// <summary>The ten-round Philox4x32 bijection of counter (c0..c3) under key (k0, k1).</summary>
    public static PhiloxBlock Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += Weyl0;
                k1 += Weyl1;
            }

            ulong product0 = (ulong)Multiplier0 * c0;
            ulong product1 = (ulong)Multiplier1 * c2;
            uint hi0 = (uint)(product0 >> 32);
            uint lo0 = (uint)product0;
            uint hi1 = (uint)(product1 >> 32);
            uint lo1 = (uint)product1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }

        return new PhiloxBlock(c0, c1, c2, c3);
    }

    /// <summary>Elements per group: the four words of 8 consecutive blocks.</summary>
    public const int ElementsPerGroup = 32;

    /// <summary>
    /// Block <paramref name="blockIndex"/> of stream <paramref name="stream"/> under <paramref name="seed"/>: the counter is
    /// (blockIndex, stream) as four 32-bit words, low word first, and the key is the seed, low word first.
    /// </summary>
    public static PhiloxBlock Block(ulong seed, ulong stream, ulong blockIndex)
        => Generate((uint)blockIndex, (uint)(blockIndex >> 32), (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));

    /// <summary>
    /// The block that element <paramref name="index"/> of a stream draws from. Elements go in groups of 32: element e takes
    /// word (e mod 32)/8 of block 8·⌊e/32⌋ + e mod 8, so one word of 8 consecutive blocks covers 8 consecutive elements
    /// (a SIMD vector on the CPU; coalesced stores on a GPU, where a thread computes one block).
    /// </summary>
    public static ulong BlockOfElement(ulong index) => ((index >> 5) << 3) | (index & 7);

    /// <summary>The word (0 to 3) of <see cref="BlockOfElement"/> that element <paramref name="index"/> takes.</summary>
    public static int WordOfElement(ulong index) => (int)((index >> 3) & 3);

    /// <summary>The element index of block <paramref name="blockIndex"/>'s word <paramref name="word"/>: the inverse of <see cref="BlockOfElement"/> and <see cref="WordOfElement"/>.</summary>
    public static ulong ElementOf(ulong blockIndex, int word) => ((blockIndex >> 3) << 5) | ((ulong)word << 3) | (blockIndex & 7);

    /// <summary>A uniform float in [0, 1) from the top 24 bits of <paramref name="bits"/>; every value is exact in float32.</summary>
    public static float ToUniform(uint bits) => (bits >> 8) * (1f / 16777216f);

    /// <summary>Element <paramref name="index"/> of stream <paramref name="stream"/> under <paramref name="seed"/>, as a uniform float in [0, 1).</summary>
    public static float Uniform(ulong seed, ulong stream, ulong index)
        => ToUniform(Block(seed, stream, BlockOfElement(index))[WordOfElement(index)]);
}
