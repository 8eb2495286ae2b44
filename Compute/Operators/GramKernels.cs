using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// Kernels behind <see cref="FilterNormalEquations"/>. z is the valid-size map [K, H+s−1, W+s−1]; h×w the image.
/// <para>
/// An entry of a Gram block depends on its two taps only through the lag (du, dv) = (u−u′, v−v′) and the window:
/// <c>A[(u,v),(u′,v′)] = Σ_{p ∈ [s−1−u, s−1−u+h), q ∈ [s−1−v, s−1−v+w)} z_k[p,q] · z_{k′}[p+du, q+dv]</c>.
/// So for each of the (2s−1)² lags one pass over the lag-product image builds its summed-area table — sampled only
/// at the ≤ 2s rows and ≤ 2s columns where windows start or end — and every entry with that lag is four table reads.
/// That is (2s−1)²·(H+s)·(W+s) multiply-adds a pair instead of s⁴·H·W, and all of it in double: the products of two
/// floats are exact in double, so the entries carry only the rounding of long double sums.
/// </para>
/// </summary>
internal static class GramKernels
{
    /// <summary>
    /// Effectively computes gram[pair][(u,v),(u′,v′)] += Σ_{i&lt;h, j&lt;w} z_k[i+s−1−u, j+s−1−v] · z_{k′}[i+s−1−u′, j+s−1−v′].
    /// <paramref name="path"/> is the width of the lag products (Auto: 256-bit where accelerated, else scalar); every
    /// width gives the same bits, since a product of two floats is exact in double and each sum is rounded once.
    /// </summary>
    public static void AccumulateGram(Tensor3 z, int h, int w, int s, IReadOnlyList<(int K1, int K2)> pairs, float[] gram, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(gram);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(s);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        if (h < 0 || w < 0 || z.Rows != h + s - 1 || z.Cols != w + s - 1)
            throw new ArgumentException($"maps {z} do not frame a {h}×{w} image for {s}×{s} filters.", nameof(z));
        int block = s * s * s * s;
        if (gram.Length < (long)pairs.Count * block)
            throw new ArgumentException($"gram holds {gram.Length} values; {pairs.Count} pairs of {s}²×{s}² need {(long)pairs.Count * block}.", nameof(gram));
        if (ReferenceEquals(z.Data, gram)) throw new ArgumentException("destination must not alias an input.", nameof(gram));
        foreach (var (k1, k2) in pairs)
            if ((uint)k1 >= (uint)z.Planes || (uint)k2 >= (uint)z.Planes)
                throw new ArgumentException($"pair ({k1}, {k2}) names a map outside [0, {z.Planes}).", nameof(pairs));
        if (h == 0 || w == 0) return;
        if (path == SimdPath.Auto) path = Vector256.IsHardwareAccelerated ? SimdPath.Vector256 : SimdPath.Scalar;
        if (degreeOfParallelism == 1 || pairs.Count == 1)
        {
            for (int p = 0; p < pairs.Count; p++) PairBlock(z, h, w, s, pairs[p].K1, pairs[p].K2, gram.AsSpan(p * block, block), path);
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism };
        Parallel.For(0, pairs.Count, options, p => PairBlock(z, h, w, s, pairs[p].K1, pairs[p].K2, gram.AsSpan(p * block, block), path));
    }

    /// <summary>Effectively computes b[k,c,u,v] += g[k,c] Σ_{i,j} y[c,i,j] z[k, i+s−1−u, j+s−1−v]: the filter gradient with r = y.</summary>
    public static void AccumulateRightHandSide(Tensor3 z, Tensor3 y, bool[] g, FilterBank b, int degreeOfParallelism = 1) =>
        LayerKernels.FilterGradient(z, y, g, b, accumulate: true, degreeOfParallelism);

    /// <summary>One pair's s²×s² block, lag by lag.</summary>
    private static void PairBlock(Tensor3 z, int h, int w, int s, int k1, int k2, Span<float> dst, SimdPath path)
    {
        int zc = z.Cols, colsNeeded = w + s - 1, samples = 4 * s * s;
        double[]? rented = null;
        Span<double> scratch = colsNeeded + samples <= 2048
            ? stackalloc double[colsNeeded + samples]
            : (rented = ArrayPool<double>.Shared.Rent(colsNeeded + samples));
        Span<double> columns = scratch[..colsNeeded];
        Span<double> table = scratch.Slice(colsNeeded, samples);
        ReadOnlySpan<float> a = z.ReadPlane(k1), b = z.ReadPlane(k2);
        for (int du = -(s - 1); du <= s - 1; du++)
            for (int dv = -(s - 1); dv <= s - 1; dv++)
                Lag(a, b, zc, h, w, s, du, dv, columns, table, dst, path);
        if (rented is not null) ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary>
    /// Every entry with lag (du, dv). Valid taps u run over [uLo, uHi] (so u′ = u − du is a tap too); window a (u = uHi − a)
    /// covers rows [top + a, top + a + h) of the lag product, window b columns [left + b, left + b + w).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lag(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int zc, int h, int w, int s, int du, int dv,
        Span<double> columns, Span<double> table, Span<float> dst, SimdPath path)
    {
        int uLo = Math.Max(0, du), uHi = Math.Min(s - 1, s - 1 + du), nu = uHi - uLo + 1;
        int vLo = Math.Max(0, dv), vHi = Math.Min(s - 1, s - 1 + dv), nv = vHi - vLo + 1;
        int top = s - 1 - uHi, left = s - 1 - vHi;
        int rows = h + nu - 1, cols = w + nv - 1;
        // table[(a * 2 + bottom) * 2nv + (b * 2 + right)]: the summed-area table S(p, q) = Σ_{p′<p, q′<q} over the
        // lag product (origin at top, left), at p = top+a(+h) and q = left+b(+w).
        Span<double> acc = columns[..cols];
        acc.Clear();
        for (int p = 0; p <= rows; p++)
        {
            if (p < nu) Sample(acc, p, 0, nv, w, table);
            if (p >= h && p - h < nu) Sample(acc, p - h, 1, nv, w, table);
            if (p == rows) break;
            int ra = (top + p) * zc + left, rb = (top + p + du) * zc + left + dv;
            AddProducts(a.Slice(ra, cols), b.Slice(rb, cols), acc, path);
        }
        int s2 = s * s;
        for (int ia = 0; ia < nu; ia++)
        {
            int u = uHi - ia, u2 = u - du;
            for (int ib = 0; ib < nv; ib++)
            {
                int v = vHi - ib, v2 = v - dv;
                double sum = T(table, nv, ia, 1, ib, 1) - T(table, nv, ia, 0, ib, 1) - T(table, nv, ia, 1, ib, 0) + T(table, nv, ia, 0, ib, 0);
                dst[(u * s + v) * s2 + u2 * s + v2] += (float)sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double T(Span<double> table, int nv, int a, int bottom, int b, int right) => table[(a * 2 + bottom) * 2 * nv + b * 2 + right];

    /// <summary>
    /// Row prefix sums of the column totals at q = b and q = b + w for b &lt; nv: the windows' left and right edges.
    /// The stretch between the last left edge and the first right edge is common to all, so it is one vector sum.
    /// </summary>
    private static void Sample(Span<double> acc, int a, int bottom, int nv, int w, Span<double> table)
    {
        Span<double> row = table.Slice((a * 2 + bottom) * 2 * nv, 2 * nv);
        double run = 0;
        int q = 0;
        while (true)
        {
            if (q < nv) row[q * 2] = run;
            if (q >= w && q - w < nv) row[(q - w) * 2 + 1] = run;
            if (q == acc.Length) break;
            if (q >= nv && q < w)
            {
                run += System.Numerics.Tensors.TensorPrimitives.Sum<double>(acc[q..w]);
                q = w;
                continue;
            }
            run += acc[q++];
        }
    }

    /// <summary>
    /// acc[q] += (double)x[q] · y[q], exactly rounded once per element, at the width <paramref name="path"/> (resolved:
    /// never Auto); the lanes are fused multiply-adds of exact products, so they round as the scalar tail does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddProducts(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<double> acc, SimdPath path)
    {
        int n = acc.Length, q = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref double ar = ref MemoryMarshal.GetReference(acc);
        switch (path)
        {
            case SimdPath.Vector512:
                for (; q <= n - 16; q += 16)
                {
                    var (xl, xh) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, (nuint)q));
                    var (yl, yh) = Vector512.Widen(Vector512.LoadUnsafe(ref yr, (nuint)q));
                    Vector512.FusedMultiplyAdd(xl, yl, Vector512.LoadUnsafe(ref ar, (nuint)q)).StoreUnsafe(ref ar, (nuint)q);
                    Vector512.FusedMultiplyAdd(xh, yh, Vector512.LoadUnsafe(ref ar, (nuint)q + 8)).StoreUnsafe(ref ar, (nuint)q + 8);
                }
                break;
            case SimdPath.Vector256:
                for (; q <= n - 8; q += 8)
                {
                    var (xl, xh) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)q));
                    var (yl, yh) = Vector256.Widen(Vector256.LoadUnsafe(ref yr, (nuint)q));
                    Vector256.FusedMultiplyAdd(xl, yl, Vector256.LoadUnsafe(ref ar, (nuint)q)).StoreUnsafe(ref ar, (nuint)q);
                    Vector256.FusedMultiplyAdd(xh, yh, Vector256.LoadUnsafe(ref ar, (nuint)q + 4)).StoreUnsafe(ref ar, (nuint)q + 4);
                }
                break;
            case SimdPath.Vector128:
                for (; q <= n - 4; q += 4)
                {
                    var (xl, xh) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)q));
                    var (yl, yh) = Vector128.Widen(Vector128.LoadUnsafe(ref yr, (nuint)q));
                    Vector128.FusedMultiplyAdd(xl, yl, Vector128.LoadUnsafe(ref ar, (nuint)q)).StoreUnsafe(ref ar, (nuint)q);
                    Vector128.FusedMultiplyAdd(xh, yh, Vector128.LoadUnsafe(ref ar, (nuint)q + 2)).StoreUnsafe(ref ar, (nuint)q + 2);
                }
                break;
            default:
                break;
        }
        for (; q < n; q++) acc[q] += (double)x[q] * y[q];
    }
}
