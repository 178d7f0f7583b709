using System.Numerics;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// A text as character ids, stored compactly: one byte per character when the vocabulary has at most 256
/// characters, two up to 65,536, four beyond. A slice is a view of the same storage, not a copy.
/// </summary>
public sealed class CharIds
{
    private readonly byte[]? bytes;
    private readonly ushort[]? shorts;
    private readonly int[]? ints;
    private readonly int offset;

    private CharIds(byte[]? bytes, ushort[]? shorts, int[]? ints, int offset, int length, int vocabularySize)
    {
        this.bytes = bytes;
        this.shorts = shorts;
        this.ints = ints;
        this.offset = offset;
        Length = length;
        VocabularySize = vocabularySize;
    }

    /// <summary>The number of characters.</summary>
    public int Length { get; }

    /// <summary>The size of the vocabulary the ids index; every id is below it.</summary>
    public int VocabularySize { get; }

    /// <summary>Bytes of storage per character: 1, 2 or 4.</summary>
    public int BytesPerId => bytes is not null ? 1 : shorts is not null ? 2 : 4;

    /// <summary>The id of character <paramref name="index"/>.</summary>
    public int this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the text's {Length} characters [0, {Length}).");
            }

            int at = offset + index;
            return bytes is not null ? bytes[at] : shorts is not null ? shorts[at] : ints![at];
        }
    }

    /// <summary>Copies ids of a vocabulary of <paramref name="vocabularySize"/> characters into the narrowest storage.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <paramref name="vocabularySize"/>).</exception>
    public static CharIds FromIds(ReadOnlySpan<int> ids, int vocabularySize)
    {
        var result = Allocate(ids.Length, vocabularySize);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)vocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"Id {ids[i]} at position {i} is outside the vocabulary of {vocabularySize} characters [0, {vocabularySize}).");
            }
        }

        if (result.bytes is not null)
        {
            Narrow(ids, result.bytes.AsSpan());
        }
        else if (result.shorts is not null)
        {
            Narrow(ids, result.shorts.AsSpan());
        }
        else
        {
            ids.CopyTo(result.ints);
        }

        return result;
    }

    /// <summary>Copies ids [<paramref name="start"/>, start + destination.Length) into <paramref name="destination"/>.</summary>
    public void CopyTo(int start, Span<int> destination)
    {
        ArgumentChecks.ThrowIfNegative(start);
        if ((long)start + destination.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"{destination.Length} ids from {start} run past the text's {Length} characters.");
        }

        int at = offset + start;
        if (bytes is not null)
        {
            Widen(bytes.AsSpan(at, destination.Length), destination);
        }
        else if (shorts is not null)
        {
            Widen(shorts.AsSpan(at, destination.Length), destination);
        }
        else
        {
            ints.AsSpan(at, destination.Length).CopyTo(destination);
        }
    }

    /// <summary>The ids as a new int array.</summary>
    public int[] ToArray()
    {
        var result = new int[Length];
        CopyTo(0, result);
        return result;
    }

    /// <summary>Characters [<paramref name="start"/>, start + length) as a view of the same storage.</summary>
    public CharIds Slice(int start, int length)
    {
        ArgumentChecks.ThrowIfNegative(start);
        ArgumentChecks.ThrowIfNegative(length);
        if ((long)start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"{length} characters from {start} run past the text's {Length}.");
        }

        return new CharIds(bytes, shorts, ints, offset + start, length, VocabularySize);
    }

    /// <summary>Zeroed storage for <paramref name="length"/> ids of a vocabulary of <paramref name="vocabularySize"/>.</summary>
    internal static CharIds Allocate(int length, int vocabularySize)
    {
        ArgumentChecks.ThrowIfNegative(length);
        ArgumentChecks.ThrowIfNegativeOrZero(vocabularySize);
        return vocabularySize <= 1 << 8 ? new CharIds(new byte[length], null, null, 0, length, vocabularySize)
            : vocabularySize <= 1 << 16 ? new CharIds(null, new ushort[length], null, 0, length, vocabularySize)
            : new CharIds(null, null, new int[length], 0, length, vocabularySize);
    }

    /// <summary>Hands the storage of an <see cref="Allocate"/>d (unsliced) instance to a writer of its element type.</summary>
    internal TResult Write<TWriter, TResult>(TWriter writer)
        where TWriter : IIdWriter<TResult>
        => bytes is not null ? writer.Write(bytes) : shorts is not null ? writer.Write(shorts) : writer.Write(ints!);

    private static void Narrow<T>(ReadOnlySpan<int> source, Span<T> destination)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = T.CreateTruncating(source[i]);
        }
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<int> destination)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = int.CreateTruncating(source[i]);
        }
    }
}

/// <summary>Writes ids into storage of whichever width <see cref="CharIds"/> chose.</summary>
internal interface IIdWriter<TResult>
{
    TResult Write<T>(T[] ids)
        where T : unmanaged, IBinaryInteger<T>;
}
