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
/// The handful of vector operations the convolution kernels need, as static members of a struct so that one generic
/// kernel body is compiled once per width (the JIT specialises generic code over struct type arguments).
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
