using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Distributed.Compute.Convolution;

/// <summary>
/// Which vector width a kernel runs at. <see cref="Auto"/> picks the widest one the hardware accelerates and the data
/// is wide enough for; the others exist so tests can run every path (a path the hardware lacks still runs, in
/// software, correctly and slowly).
/// </summary>
internal enum SimdPath
{
    Auto,
    Vector512,
    Vector256,
    Vector128,
    Scalar,
}

internal static class SimdPaths
{
    /// <summary>
    /// The widest path at most as wide as <paramref name="requested"/> (Auto: the widest accelerated one) whose
    /// <paramref name="vectorsPerBlock"/> vectors fit in <paramref name="columns"/>; Scalar when none does.
    /// </summary>
    public static SimdPath Resolve(SimdPath requested, int columns, int vectorsPerBlock)
    {
        SimdPath path = requested != SimdPath.Auto ? requested
            : Vector512.IsHardwareAccelerated ? SimdPath.Vector512
            : Vector256.IsHardwareAccelerated ? SimdPath.Vector256
            : Vector128.IsHardwareAccelerated ? SimdPath.Vector128
            : SimdPath.Scalar;
        if (path == SimdPath.Vector512 && columns < 16 * vectorsPerBlock) path = SimdPath.Vector256;
        if (path == SimdPath.Vector256 && columns < 8 * vectorsPerBlock) path = SimdPath.Vector128;
        if (path == SimdPath.Vector128 && columns < 4 * vectorsPerBlock) path = SimdPath.Scalar;
        return path;
    }
}

/// <summary>
/// The handful of vector operations the kernels need, as static members of a struct so that one generic kernel body is
/// compiled once per width (the JIT specialises generic code over struct type arguments). <see cref="OpsScalar"/> is
/// the one-lane instance, so a kernel's scalar path can be the same body.
/// </summary>
internal interface IVectorOps<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Broadcast(float value);
    static abstract TV Load(ref float source);
    static abstract void Store(TV value, ref float destination);
    /// <summary>a · b + addend, one rounding.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV addend);
    static abstract float Sum(TV value);
    /// <summary>Zeroes every lane below <paramref name="firstLane"/>.</summary>
    static abstract TV ClearBelow(TV value, int firstLane);
    /// <summary>Lanes below <paramref name="firstLane"/> from <paramref name="below"/>, the rest from <paramref name="from"/>.</summary>
    static abstract TV Merge(TV below, TV from, int firstLane);
    static abstract TV Subtract(TV left, TV right);
    static abstract TV Abs(TV value);
    /// <summary>IEEE maximum, as <see cref="MathF.Max(float, float)"/>: NaN propagates, −0 &lt; +0.</summary>
    static abstract TV Max(TV left, TV right);
    /// <summary>|value| with the sign of <paramref name="sign"/>.</summary>
    static abstract TV CopySign(TV value, TV sign);
    /// <summary>value where test &gt; 0, else +0 (NaN tests give +0).</summary>
    static abstract TV WherePositive(TV test, TV value);
    /// <summary>The lanes widened to double and summed: lower half + upper half, then across.</summary>
    static abstract double SumWidened(TV value);
}

internal readonly struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) => Vector512.FusedMultiplyAdd(a, b, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ClearBelow(Vector512<float> value, int firstLane) =>
        Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(firstLane)).AsSingle() & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Merge(Vector512<float> below, Vector512<float> from, int firstLane) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(firstLane)).AsSingle(), from, below);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> CopySign(Vector512<float> value, Vector512<float> sign) => Vector512.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WherePositive(Vector512<float> test, Vector512<float> value) => Vector512.GreaterThan(test, Vector512<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector512<float> value)
    {
        (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(value);
        return Vector512.Sum(lower + upper);
    }
}

internal readonly struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) => Vector256.FusedMultiplyAdd(a, b, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ClearBelow(Vector256<float> value, int firstLane) =>
        Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(firstLane)).AsSingle() & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Merge(Vector256<float> below, Vector256<float> from, int firstLane) =>
        Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(firstLane)).AsSingle(), from, below);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> CopySign(Vector256<float> value, Vector256<float> sign) => Vector256.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WherePositive(Vector256<float> test, Vector256<float> value) => Vector256.GreaterThan(test, Vector256<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector256<float> value)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(value);
        return Vector256.Sum(lower + upper);
    }
}

internal readonly struct Ops128 : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> addend) => Vector128.FusedMultiplyAdd(a, b, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ClearBelow(Vector128<float> value, int firstLane) =>
        Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(firstLane)).AsSingle() & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Merge(Vector128<float> below, Vector128<float> from, int firstLane) =>
        Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(firstLane)).AsSingle(), from, below);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> CopySign(Vector128<float> value, Vector128<float> sign) => Vector128.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WherePositive(Vector128<float> test, Vector128<float> value) => Vector128.GreaterThan(test, Vector128<float>.Zero) & value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector128<float> value)
    {
        (Vector128<double> lower, Vector128<double> upper) = Vector128.Widen(value);
        return Vector128.Sum(lower + upper);
    }
}

/// <summary>One lane: the scalar path of a generic kernel body, every operation rounded as its vector lanes are.</summary>
internal readonly struct OpsScalar : IVectorOps<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float source) => source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, ref float destination) => destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float addend) => MathF.FusedMultiplyAdd(a, b, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ClearBelow(float value, int firstLane) => firstLane > 0 ? 0f : value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Merge(float below, float from, int firstLane) => firstLane > 0 ? below : from;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float left, float right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Abs(float value) => MathF.Abs(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float left, float right) => MathF.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float CopySign(float value, float sign) => MathF.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float WherePositive(float test, float value) => test > 0 ? value : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumWidened(float value) => value;
}

internal static class CacheHints
{
    /// <summary>
    /// Asks for the cache lines of <c>start[0..count)</c> ahead of use. A hint only: it never faults and does nothing
    /// where the instruction set has none; the caller still keeps addresses inside the array, since a byref outside an
    /// object is not allowed to exist even briefly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(ref float start, int count)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int i = 0; i < count; i += 16)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref start, i)));
    }
}
