using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The few float operations the CPU kernels need, over one register width: the one CPU operator abstraction.
/// Each kernel step and each elementwise operator (<see cref="IUnaryOperator"/>, <see cref="IBinaryOperator"/>) is
/// written once, generic over a struct implementing this, and the JIT specializes it for Vector512, Vector256,
/// Vector128 and a single float (the scalar tail). (.NET's own ISimdVector is internal, hence this small copy.)
/// </summary>
/// <typeparam name="TVector">The register: <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>, <see cref="Vector128{T}"/> or <see cref="float"/>.</typeparam>
internal unsafe interface IFloatLanes<TVector>
    where TVector : struct
{
    /// <summary>Whether the width runs in hardware (a JIT-time constant).</summary>
    static abstract bool IsAccelerated { get; }

    /// <summary>The number of floats in one register.</summary>
    static abstract int Count { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(TVector value, float* destination);

    static abstract TVector Create(float value);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Subtract(TVector a, TVector b);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>a·b + c, fused where the hardware can.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Abs(TVector x);

    /// <summary>|x| with the sign of <paramref name="sign"/>.</summary>
    static abstract TVector CopySign(TVector x, TVector sign);

    /// <summary><paramref name="value"/> where x &gt; 0, else 0 (also for NaN x).</summary>
    static abstract TVector WherePositive(TVector x, TVector value);

    /// <summary><paramref name="below"/> where x &lt; <paramref name="limit"/>, else <paramref name="otherwise"/> (also for NaN x), lane by lane.</summary>
    static abstract TVector WhereLess(TVector x, TVector limit, TVector below, TVector otherwise);

    /// <summary><paramref name="a"/> where x &gt; <paramref name="than"/> or x is NaN, else <paramref name="b"/>, lane by lane.</summary>
    static abstract TVector WhereGreaterOrNaN(TVector x, TVector than, TVector a, TVector b);

    /// <summary>
    /// <paramref name="a"/> where x and y hold the same 32 bits, else <paramref name="b"/>, lane by lane: lanes that carry
    /// integers as raw bits (moved and selected, never computed on) compare as integers.
    /// </summary>
    static abstract TVector WhereSameBits(TVector x, TVector y, TVector a, TVector b);

    /// <summary>The natural logarithm (.NET's vectorized log).</summary>
    static abstract TVector Log(TVector x);

    /// <summary>The larger of a and b; NaN if either is NaN.</summary>
    static abstract TVector Max(TVector a, TVector b);

    /// <summary>The smaller of a and b; NaN if either is NaN.</summary>
    static abstract TVector Min(TVector a, TVector b);

    /// <summary>
    /// x limited to [<paramref name="low"/>, <paramref name="high"/>]; NaN stays NaN. One native min and max where the
    /// hardware has them: .NET's Min and Max also order −0 below +0, which costs x86 a range and two fix-ups each.
    /// </summary>
    static abstract TVector Clamp(TVector x, TVector low, TVector high);

    /// <summary>x rounded to the nearest integer, ties to even.</summary>
    static abstract TVector RoundToEven(TVector x);

    /// <summary>x·2^n for integral n in [−150, 130], rounded once (to a subnormal, 0 or ∞ where the result is out of range).</summary>
    static abstract TVector ScaleByPowerOfTwo(TVector x, TVector n);

    static abstract TVector Sqrt(TVector x);

    /// <summary>x with every subnormal lane (|x| below float's smallest normal) set to zero.</summary>
    static abstract TVector FlushSubnormal(TVector x);

    /// <summary>e^x within 1.25 ulp, the same roundings at every width (<see cref="FloatExp"/>).</summary>
    static abstract TVector Exp(TVector x);

    static abstract float MaxAcross(TVector x);

    static abstract float SumAcross(TVector x);

    /// <summary>The sum of the lanes in double: each lane widened first, so the sum rounds once per lane, in double.</summary>
    static abstract double SumAcrossWidened(TVector x);
}

/// <summary>Float constants the lanes share.</summary>
internal static class FloatLimits
{
    /// <summary>The smallest positive normal float, 2^−126; below it floats are subnormal, which x86 computes on ~100× slower.</summary>
    public const float SmallestNormal = 1.17549435E-38f;
}

/// <summary>Sixteen floats in a Vector512 (AVX-512).</summary>
internal readonly unsafe struct FloatLanes512 : IFloatLanes<Vector512<float>>
{
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CopySign(Vector512<float> x, Vector512<float> sign) => Vector512.CopySign(x, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WherePositive(Vector512<float> x, Vector512<float> value) => Vector512.GreaterThan(x, Vector512<float>.Zero) & value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WhereLess(Vector512<float> x, Vector512<float> limit, Vector512<float> below, Vector512<float> otherwise)
        => Vector512.ConditionalSelect(Vector512.LessThan(x, limit), below, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WhereGreaterOrNaN(Vector512<float> x, Vector512<float> than, Vector512<float> a, Vector512<float> b)
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, than) | Vector512.IsNaN(x), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WhereSameBits(Vector512<float> x, Vector512<float> y, Vector512<float> a, Vector512<float> b)
        => Vector512.ConditionalSelect(Vector512.Equals(x.AsInt32(), y.AsInt32()).AsSingle(), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x) => Vector512.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

    // x86's max and min return their second operand when either is NaN, so x goes second.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> x, Vector512<float> low, Vector512<float> high)
        => Avx512F.IsSupported ? Avx512F.Min(high, Avx512F.Max(low, x)) : Vector512.Min(Vector512.Max(x, low), high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RoundToEven(Vector512<float> x) => Vector512.Round(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> x, Vector512<float> n)
        => Avx512F.IsSupported
            ? Avx512F.Scale(x, n)
            : Vector512.Create(FloatLanes256.ScaleByPowerOfTwo(x.GetLower(), n.GetLower()), FloatLanes256.ScaleByPowerOfTwo(x.GetUpper(), n.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => FloatExp.Evaluate<FloatLanes512, Vector512<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> x) => Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FlushSubnormal(Vector512<float> x)
        => Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(FloatLimits.SmallestNormal)), Vector512<float>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> x) => FloatLanes256.MaxAcross(Vector256.Max(x.GetLower(), x.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector512<float> x) => Vector512.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcrossWidened(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Sum(lo + hi);
    }
}

/// <summary>Eight floats in a Vector256 (AVX2), the fallback without AVX-512 and the step after Vector512 in a tail.</summary>
internal readonly unsafe struct FloatLanes256 : IFloatLanes<Vector256<float>>
{
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CopySign(Vector256<float> x, Vector256<float> sign) => Vector256.CopySign(x, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WherePositive(Vector256<float> x, Vector256<float> value) => Vector256.GreaterThan(x, Vector256<float>.Zero) & value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WhereLess(Vector256<float> x, Vector256<float> limit, Vector256<float> below, Vector256<float> otherwise)
        => Vector256.ConditionalSelect(Vector256.LessThan(x, limit), below, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WhereGreaterOrNaN(Vector256<float> x, Vector256<float> than, Vector256<float> a, Vector256<float> b)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, than) | Vector256.IsNaN(x), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WhereSameBits(Vector256<float> x, Vector256<float> y, Vector256<float> a, Vector256<float> b)
        => Vector256.ConditionalSelect(Vector256.Equals(x.AsInt32(), y.AsInt32()).AsSingle(), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x) => Vector256.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);

    // x86's max and min return their second operand when either is NaN, so x goes second.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> x, Vector256<float> low, Vector256<float> high)
        => Avx.IsSupported ? Avx.Min(high, Avx.Max(low, x)) : Vector256.Min(Vector256.Max(x, low), high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RoundToEven(Vector256<float> x) => Vector256.Round(x);

    /// <summary>Two exact power-of-two factors, each within float's normal exponents, so only the last product rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> x, Vector256<float> n)
    {
        // n is integral and within the contract's range, so the native conversion gives the same integers without
        // .NET's fix-ups for lanes out of int's range (a compare and a blend on x86).
        var whole = Vector256.ConvertToInt32Native(n);
        var half = whole >> 1;
        var first = (half + Vector256.Create(127)) << 23;
        var second = (whole - half + Vector256.Create(127)) << 23;
        return x * first.AsSingle() * second.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) => FloatExp.Evaluate<FloatLanes256, Vector256<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> x) => Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FlushSubnormal(Vector256<float> x)
        => Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(FloatLimits.SmallestNormal)), Vector256<float>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> x)
    {
        return FloatLanes128.MaxAcross(Vector128.Max(x.GetLower(), x.GetUpper()));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector256<float> x) => Vector256.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcrossWidened(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Sum(lo + hi);
    }
}

/// <summary>Four floats in a Vector128: the widest accelerated width on ARM64 (Neon), and the step after Vector256 in a tail.</summary>
internal readonly unsafe struct FloatLanes128 : IFloatLanes<Vector128<float>>
{
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;

    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> x) => Vector128.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> CopySign(Vector128<float> x, Vector128<float> sign) => Vector128.CopySign(x, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WherePositive(Vector128<float> x, Vector128<float> value) => Vector128.GreaterThan(x, Vector128<float>.Zero) & value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WhereLess(Vector128<float> x, Vector128<float> limit, Vector128<float> below, Vector128<float> otherwise)
        => Vector128.ConditionalSelect(Vector128.LessThan(x, limit), below, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WhereGreaterOrNaN(Vector128<float> x, Vector128<float> than, Vector128<float> a, Vector128<float> b)
        => Vector128.ConditionalSelect(Vector128.GreaterThan(x, than) | Vector128.IsNaN(x), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WhereSameBits(Vector128<float> x, Vector128<float> y, Vector128<float> a, Vector128<float> b)
        => Vector128.ConditionalSelect(Vector128.Equals(x.AsInt32(), y.AsInt32()).AsSingle(), a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log(Vector128<float> x) => Vector128.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);

    // x86's max and min return their second operand when either is NaN, so x goes second; Arm's propagate NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Clamp(Vector128<float> x, Vector128<float> low, Vector128<float> high)
        => Sse.IsSupported ? Sse.Min(high, Sse.Max(low, x)) : Vector128.Min(Vector128.Max(x, low), high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> RoundToEven(Vector128<float> x) => Vector128.Round(x);

    /// <summary>Two exact power-of-two factors, each within float's normal exponents, so only the last product rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ScaleByPowerOfTwo(Vector128<float> x, Vector128<float> n)
    {
        // n is integral and within the contract's range, so the native conversion gives the same integers without
        // .NET's fix-ups for lanes out of int's range (a compare and a blend on x86).
        var whole = Vector128.ConvertToInt32Native(n);
        var half = whole >> 1;
        var first = (half + Vector128.Create(127)) << 23;
        var second = (whole - half + Vector128.Create(127)) << 23;
        return x * first.AsSingle() * second.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x) => FloatExp.Evaluate<FloatLanes128, Vector128<float>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> x) => Vector128.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FlushSubnormal(Vector128<float> x)
        => Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(FloatLimits.SmallestNormal)), Vector128<float>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> x) => MathF.Max(MathF.Max(x[0], x[1]), MathF.Max(x[2], x[3]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(Vector128<float> x) => Vector128.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcrossWidened(Vector128<float> x)
    {
        var (lo, hi) = Vector128.Widen(x);
        return Vector128.Sum(lo + hi);
    }
}

/// <summary>One float: the scalar tail, and the whole loop where no SIMD width is accelerated.</summary>
internal readonly unsafe struct FloatLanes1 : IFloatLanes<float>
{
    public static bool IsAccelerated => true;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, float* destination) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Create(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float x) => MathF.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float CopySign(float x, float sign) => MathF.CopySign(x, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WherePositive(float x, float value) => x > 0f ? value : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WhereLess(float x, float limit, float below, float otherwise) => x < limit ? below : otherwise;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WhereGreaterOrNaN(float x, float than, float a, float b) => x > than || float.IsNaN(x) ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WhereSameBits(float x, float y, float a, float b) => BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y) ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log(float x) => MathF.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => float.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => MathF.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float a, float b) => MathF.Min(a, b);

    // Both comparisons are false for NaN, which falls through unchanged.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clamp(float x, float low, float high) => x < low ? low : x > high ? high : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToEven(float x) => MathF.Round(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ScaleByPowerOfTwo(float x, float n) => MathF.ScaleB(x, (int)n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => FloatExp.Evaluate<FloatLanes1, float>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float x) => MathF.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FlushSubnormal(float x) => MathF.Abs(x) < FloatLimits.SmallestNormal ? 0f : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(float x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumAcross(float x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcrossWidened(float x) => x;
}
