using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Distributed.Compute.Convolution;

/// <summary>
/// The filter-side core: s² long dot products between one residual plane r [h, w] and shifted windows of one map
/// z [h+s−1, ≥ w+s−1]. Each (u, block of four v) pass loads a residual vector once and multiplies it against four
/// shifted map vectors; the partial sums of one row are added into double totals, so sums over large images keep
/// float rounding to one row's worth. Callers validate shapes.
/// </summary>
internal static class TapCorrelation
{
    /// <summary>
    /// Effectively computes, for u, v &lt; s:
    /// <c>dst[u·s + v] = (accumulate ? dst[u·s + v] : 0) + Σ_{i&lt;h, j&lt;w} r[i·w + j] · z[(i+s−1−u)·zCols + j+s−1−v]</c>.
    /// </summary>
    public static void Taps(SimdPath path, ref float r, int h, int w, ref float z, int zCols, int s, ref float dst, bool accumulate)
    {
        switch (SimdPaths.Resolve(path, w, vectorsPerBlock: 1))
        {
            case SimdPath.Vector512: TapsVector<Vector512<float>, Ops512>(ref r, h, w, ref z, zCols, s, ref dst, accumulate); break;
            case SimdPath.Vector256: TapsVector<Vector256<float>, Ops256>(ref r, h, w, ref z, zCols, s, ref dst, accumulate); break;
            case SimdPath.Vector128: TapsVector<Vector128<float>, Ops128>(ref r, h, w, ref z, zCols, s, ref dst, accumulate); break;
            default: TapsScalar(ref r, h, w, ref z, zCols, s, ref dst, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TapsScalar(ref float r, int h, int w, ref float z, int zCols, int s, ref float dst, bool accumulate)
    {
        for (int u = 0; u < s; u++)
            for (int v = 0; v < s; v++)
            {
                double total = 0;
                for (int i = 0; i < h; i++)
                {
                    ref float rr = ref Unsafe.Add(ref r, (nint)i * w);
                    ref float zr = ref Unsafe.Add(ref z, (nint)(i + s - 1 - u) * zCols + s - 1 - v);
                    float row = 0;
                    for (int j = 0; j < w; j++) row = MathF.FusedMultiplyAdd(Unsafe.Add(ref rr, j), Unsafe.Add(ref zr, j), row);
                    total += row;
                }
                Write(ref dst, u * s + v, total, accumulate);
            }
    }

    private static void TapsVector<TV, TOps>(ref float r, int h, int w, ref float z, int zCols, int s, ref float dst, bool accumulate)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        int full = w / n * n;
        // A ragged row ends with one vector shifted back to end at column w, its already-counted lanes cleared.
        int tail = w - n, tailFirstLane = full - tail;
        for (int u = 0; u < s; u++)
        {
            if (s < 4)
            {
                for (int v = 0; v < s; v++)
                    Write(ref dst, u * s + v, OneTap<TV, TOps>(ref r, h, w, ref z, zCols, s, u, v, full, tail, tailFirstLane), accumulate);
                continue;
            }
            for (int v0 = 0; v0 < s; v0 += 4)
            {
                // The last block of four is shifted back to end at tap s−1; taps it repeats are not written twice.
                int vb = Math.Min(v0, s - 4);
                FourTaps<TV, TOps>(ref r, h, w, ref z, zCols, s, u, vb, full, tail, tailFirstLane, out double d0, out double d1, out double d2, out double d3);
                int at = u * s + vb;
                if (vb >= v0) Write(ref dst, at, d0, accumulate);
                if (vb + 1 >= v0) Write(ref dst, at + 1, d1, accumulate);
                if (vb + 2 >= v0) Write(ref dst, at + 2, d2, accumulate);
                Write(ref dst, at + 3, d3, accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(ref float dst, int at, double value, bool accumulate)
    {
        ref float d = ref Unsafe.Add(ref dst, at);
        d = accumulate ? d + (float)value : (float)value;
    }

    /// <summary>Taps (u, vb..vb+3): the map window for tap vb+q starts q columns left of tap vb's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourTaps<TV, TOps>(ref float r, int h, int w, ref float z, int zCols, int s, int u, int vb,
        int full, int tail, int tailFirstLane, out double d0, out double d1, out double d2, out double d3)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        d0 = d1 = d2 = d3 = 0;
        for (int i = 0; i < h; i++)
        {
            ref float rr = ref Unsafe.Add(ref r, (nint)i * w);
            ref float zr = ref Unsafe.Add(ref z, (nint)(i + s - 1 - u) * zCols + s - 1 - vb);
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            for (int j = 0; j < full; j += n)
            {
                TV rv = TOps.Load(ref Unsafe.Add(ref rr, j));
                ref float zj = ref Unsafe.Add(ref zr, j);
                a0 = TOps.MultiplyAdd(rv, TOps.Load(ref zj), a0);
                a1 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -1)), a1);
                a2 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -2)), a2);
                a3 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -3)), a3);
            }
            if (full < w)
            {
                TV rv = TOps.ClearBelow(TOps.Load(ref Unsafe.Add(ref rr, tail)), tailFirstLane);
                ref float zj = ref Unsafe.Add(ref zr, tail);
                a0 = TOps.MultiplyAdd(rv, TOps.Load(ref zj), a0);
                a1 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -1)), a1);
                a2 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -2)), a2);
                a3 = TOps.MultiplyAdd(rv, TOps.Load(ref Unsafe.Add(ref zj, -3)), a3);
            }
            d0 += TOps.Sum(a0);
            d1 += TOps.Sum(a1);
            d2 += TOps.Sum(a2);
            d3 += TOps.Sum(a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double OneTap<TV, TOps>(ref float r, int h, int w, ref float z, int zCols, int s, int u, int v, int full, int tail, int tailFirstLane)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        double total = 0;
        for (int i = 0; i < h; i++)
        {
            ref float rr = ref Unsafe.Add(ref r, (nint)i * w);
            ref float zr = ref Unsafe.Add(ref z, (nint)(i + s - 1 - u) * zCols + s - 1 - v);
            TV a = TOps.Zero;
            for (int j = 0; j < full; j += n)
                a = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref rr, j)), TOps.Load(ref Unsafe.Add(ref zr, j)), a);
            if (full < w)
                a = TOps.MultiplyAdd(TOps.ClearBelow(TOps.Load(ref Unsafe.Add(ref rr, tail)), tailFirstLane), TOps.Load(ref Unsafe.Add(ref zr, tail)), a);
            total += TOps.Sum(a);
        }
        return total;
    }
}
