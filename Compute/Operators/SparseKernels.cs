using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// Synthesis and filter gradient from the nonzeros of the maps (<see cref="SparseMaps"/>), each costing
/// O(nnz · C · s²) instead of the dense kernels' K · C · Hz · Wz · s². Legend as in <see cref="LayerKernels"/>: z maps
/// [K, Hz, Wz], f filters [K, C, s, s], g the raw [K, C] mask, m = s − 1; "extended" planes are
/// [C, Hz+m, Wz+m], the frame in which a map value at (p, q) meets filter tap (u, v) at (p+u, q+v).
/// Both boundaries reduce to that frame: the valid image is its centre (<see cref="Crop"/>), the circular image its
/// fold (<see cref="FoldWrapExtension"/>); the residual side is <see cref="LayerKernels.ZeroPad"/> or
/// <see cref="LayerKernels.WrapExtend"/>, as the dense adjoint uses.
/// The inner loop is one contiguous run of s floats per filter row (Vector256 FMA, then a Vector128 and single floats
/// for the rest; one register when s = 8; a forced Vector512 path adds 16-float runs). Every product is a fused
/// multiply-add, in vector lanes and scalar tails alike, and every output value is summed in a fixed order (the
/// nonzeros' storage order), so results are bitwise the same for any thread count or vector width.
/// Small work runs on the calling thread: below <see cref="ParallelWork"/> multiply-adds the fork/join would cost more
/// than it saves.
/// </summary>
internal static class SparseKernels
{
    /// <summary>Multiply-adds below which a call stays on one thread whatever its degree of parallelism.</summary>
    public const long ParallelWork = 1L << 19;

    /// <summary>Nonzeros whose float partial sums the filter gradient adds into its double totals at a time.</summary>
    private const int GradientBlock = 64;

    /// <summary>
    /// Effectively computes <c>extended[c, e, d] = Σ_k g[k,c] Σ_{u,v} f[k,c,u,v] z[k, e−u, d−v]</c> (full convolution of
    /// the maps), overwriting <paramref name="extended"/> [C, Hz+s−1, Wz+s−1].
    /// </summary>
    public static void SynthesizeExtended(SparseMaps z, FilterBank f, bool[] g, Tensor3 extended, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(extended);
        LayerKernels.CheckMask(g, f);
        int m = f.Size - 1;
        if (z.Planes != f.Maps || extended.Planes != f.Inputs || extended.Rows != z.Rows + m || extended.Cols != z.Cols + m)
            throw new ArgumentException($"sparse synthesis of filters {f} reads maps [{f.Maps}, Hz, Wz] into [{f.Inputs}, Hz+{m}, Wz+{m}]; got maps [{z.Planes}, {z.Rows}, {z.Cols}] and destination {extended}.", nameof(extended));
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        if (extended.Length == 0) return;
        int lanes = Lanes(path);
        int planes = extended.Planes, rows = extended.Rows;
        long work = (long)z.Count * f.Inputs * f.PlaneLength;
        if (degreeOfParallelism == 1 || work < ParallelWork)
        {
            for (int c = 0; c < planes; c++) ScatterBand(z, f, g, extended, c, 0, rows, lanes);
            return;
        }
        // Planes first; row bands (of at least 2s rows) only when there are fewer planes than threads.
        int bands = planes >= degreeOfParallelism ? 1 : Math.Clamp((degreeOfParallelism + planes - 1) / planes, 1, Math.Max(1, rows / (2 * f.Size)));
        ScatterParallel(z, f, g, extended, bands, degreeOfParallelism, lanes);
    }

    // Apart from the callers so that the closure is allocated only when a call forks.
    private static void ScatterParallel(SparseMaps z, FilterBank f, bool[] g, Tensor3 extended, int bands, int degreeOfParallelism, int lanes)
    {
        int rows = extended.Rows;
        var options = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism };
        Parallel.For(0, extended.Planes * bands, options, item =>
        {
            int c = item / bands, band = item % bands;
            ScatterBand(z, f, g, extended, c, (int)((long)rows * band / bands), (int)((long)rows * (band + 1) / bands), lanes);
        });
    }

    /// <summary>
    /// Effectively computes <c>y = F(f) z</c> from the nonzeros of z: the full convolution into
    /// <paramref name="extended"/> (<see cref="SynthesizeExtended"/>), then its centre (valid: y [C, Hz−s+1, Wz−s+1]) or
    /// its fold (circular: y [C, Hz, Wz]). <paramref name="extended"/> is scratch and is overwritten.
    /// </summary>
    public static void Synthesize(SparseMaps z, FilterBank f, bool[] g, Boundary boundary, Tensor3 extended, Tensor3 y, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(extended);
        ArgumentNullException.ThrowIfNull(y);
        LayerKernels.CheckDistinct(extended.Data, y.Data, nameof(y));
        SynthesizeExtended(z, f, g, extended, degreeOfParallelism, path);
        if (boundary == Boundary.Valid) Crop(extended, f.Size - 1, y);
        else FoldWrapExtension(extended, y);
    }

    /// <summary>
    /// Effectively computes <c>fg[k,c,u,v] = g[k,c] Σ_{p,q} z[k,p,q] · rx[c, p+u, q+v]</c> for rx [C, Hz+s−1, Wz+s−1]:
    /// with rx the residual framed by zeros (<see cref="LayerKernels.ZeroPad"/>, margin s−1) this is the valid filter
    /// gradient Σ_{i,j} r[c,i,j] z[k, i+s−1−u, j+s−1−v]; with rx the residual extended by wrap-around
    /// (<see cref="LayerKernels.WrapExtend"/>) it is the circular one. Unconnected planes are zeroed. Products of up to
    /// 64 nonzeros are summed in float, those partial sums in double (<paramref name="scratch"/>: at least
    /// min(degreeOfParallelism, K·C) · s² doubles, overwritten).
    /// </summary>
    public static void FilterGradient(SparseMaps z, Tensor3 rx, bool[] g, double[] scratch, FilterBank fg, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(rx);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(fg);
        LayerKernels.CheckMask(g, fg);
        int m = fg.Size - 1;
        if (z.Planes != fg.Maps || rx.Planes != fg.Inputs || rx.Rows != z.Rows + m || rx.Cols != z.Cols + m)
            throw new ArgumentException($"the sparse filter gradient {fg} reads maps [{fg.Maps}, Hz, Wz] and extended residuals [{fg.Inputs}, Hz+{m}, Wz+{m}]; got maps [{z.Planes}, {z.Rows}, {z.Cols}] and {rx}.", nameof(fg));
        LayerKernels.CheckDistinct(rx.Data, fg.Data, nameof(fg));
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        int pairs = fg.Maps * fg.Inputs;
        long needed = (long)Math.Min(degreeOfParallelism, pairs) * fg.PlaneLength;
        if (scratch.Length < needed)
            throw new ArgumentException($"scratch has {scratch.Length} doubles; {Math.Min(degreeOfParallelism, pairs)} workers on {fg.Size}×{fg.Size} filters need {needed}.", nameof(scratch));
        long work = (long)z.Count * fg.Inputs * fg.PlaneLength;
        int workers = degreeOfParallelism == 1 || work < ParallelWork ? 1 : Math.Min(degreeOfParallelism, pairs);
        int lanes = Lanes(path);
        if (workers == 1)
        {
            Span<double> totals = scratch.AsSpan(0, fg.PlaneLength);
            for (int kc = 0; kc < pairs; kc++) GradientPair(z, rx, g, fg, kc, totals, lanes);
            return;
        }
        GradientParallel(z, rx, g, scratch, fg, workers, lanes);
    }

    /// <summary>A fixed split of the pairs: each worker owns one slice of scratch, each pair one destination plane.</summary>
    private static void GradientParallel(SparseMaps z, Tensor3 rx, bool[] g, double[] scratch, FilterBank fg, int workers, int lanes)
    {
        int pairs = fg.Maps * fg.Inputs;
        var options = new ParallelOptions { MaxDegreeOfParallelism = workers };
        Parallel.For(0, workers, options, w =>
        {
            Span<double> totals = scratch.AsSpan(w * fg.PlaneLength, fg.PlaneLength);
            int first = (int)((long)pairs * w / workers), last = (int)((long)pairs * (w + 1) / workers);
            for (int kc = first; kc < last; kc++) GradientPair(z, rx, g, fg, kc, totals, lanes);
        });
    }

    /// <summary>y[c, i, j] = extended[c, i+m, j+m]: the valid image inside the full convolution (the adjoint of <see cref="LayerKernels.ZeroPad"/>).</summary>
    public static void Crop(Tensor3 extended, int margin, Tensor3 y)
    {
        ArgumentNullException.ThrowIfNull(extended);
        ArgumentNullException.ThrowIfNull(y);
        if (extended.Planes != y.Planes || extended.Rows != y.Rows + 2 * margin || extended.Cols != y.Cols + 2 * margin)
            throw new ArgumentException($"cropping {extended} by {margin} gives [{extended.Planes}, {extended.Rows - 2 * margin}, {extended.Cols - 2 * margin}]; got {y}.", nameof(y));
        LayerKernels.CheckDistinct(extended.Data, y.Data, nameof(y));
        for (int c = 0; c < y.Planes; c++)
            for (int i = 0; i < y.Rows; i++)
                extended.ReadPlane(c).Slice((i + margin) * extended.Cols + margin, y.Cols).CopyTo(y.Plane(c).Slice(i * y.Cols, y.Cols));
    }

    /// <summary>
    /// y[c, i, j] = Σ_{a,b ∈ {0,1}} extended[c, i + aH, j + bW] over the cells that exist, added as
    /// ((e[i,j] + e[i,j+W]) + e[i+H,j]) + e[i+H,j+W]: the adjoint of <see cref="LayerKernels.WrapExtend"/>, for a margin
    /// m = extended.Rows − H &lt;= H.
    /// </summary>
    public static void FoldWrapExtension(Tensor3 extended, Tensor3 y)
    {
        ArgumentNullException.ThrowIfNull(extended);
        ArgumentNullException.ThrowIfNull(y);
        int h = y.Rows, w = y.Cols, mr = extended.Rows - h, mc = extended.Cols - w;
        if (extended.Planes != y.Planes || mr < 0 || mc < 0 || mr > h || mc > w || mr != mc)
            throw new ArgumentException($"folding {extended} onto {y} needs the same planes and one margin of at most the image's size on both axes.", nameof(y));
        LayerKernels.CheckDistinct(extended.Data, y.Data, nameof(y));
        int ew = extended.Cols;
        for (int c = 0; c < y.Planes; c++)
        {
            ReadOnlySpan<float> src = extended.ReadPlane(c);
            Span<float> dst = y.Plane(c);
            for (int i = 0; i < h; i++)
            {
                Span<float> row = dst.Slice(i * w, w);
                ReadOnlySpan<float> top = src.Slice(i * ew, ew);
                top[..w].CopyTo(row);
                TensorPrimitives.Add(row[..mc], top.Slice(w, mc), row[..mc]);
                if (i >= mr) continue;
                ReadOnlySpan<float> below = src.Slice((i + h) * ew, ew);
                TensorPrimitives.Add(row, below[..w], row);
                TensorPrimitives.Add(row[..mc], below.Slice(w, mc), row[..mc]);
            }
        }
    }

    /// <summary>
    /// Rows [e0, e1) of extended plane c: cleared, then every nonzero of every map connected to c adds its scaled
    /// filter rows that land there. A value receives one product per nonzero, in storage order, whatever the band.
    /// </summary>
    private static void ScatterBand(SparseMaps z, FilterBank f, bool[] g, Tensor3 extended, int c, int e0, int e1, int lanes)
    {
        int s = f.Size, m = s - 1, ew = extended.Cols, hz = z.Rows, inputs = f.Inputs;
        extended.Plane(c).Slice(e0 * ew, (e1 - e0) * ew).Clear();
        int[] rowStart = z.RowStartArray, cols = z.ColumnArray;
        float[] values = z.ValueArray;
        ref float plane = ref extended.Data[c * extended.PlaneLength];
        for (int k = 0; k < f.Maps; k++)
        {
            if (!g[k * inputs + c]) continue;
            ref float filter = ref f.Data[(k * inputs + c) * f.PlaneLength];
            int pFirst = Math.Max(0, e0 - m), pEnd = Math.Min(hz, e1);
            for (int p = pFirst; p < pEnd; p++)
            {
                int u0 = Math.Max(0, e0 - p), u1 = Math.Min(s, e1 - p);
                int start = rowStart[k * hz + p], end = rowStart[k * hz + p + 1];
                ref float target = ref Unsafe.Add(ref plane, (nint)p * ew);
                if (lanes >= 8 && s == 8 && u0 == 0 && u1 == 8)
                {
                    for (int n = start; n < end; n++) Scatter8(Vector256.Create(values[n]), ref filter, ref Unsafe.Add(ref target, cols[n]), ew);
                    continue;
                }
                for (int n = start; n < end; n++)
                {
                    float a = values[n];
                    ref float at = ref Unsafe.Add(ref target, cols[n]);
                    for (int u = u0; u < u1; u++)
                        MultiplyAddRow(a, ref Unsafe.Add(ref filter, u * s), ref Unsafe.Add(ref at, (nint)u * ew), s, lanes);
                }
            }
        }
    }

    /// <summary>target[u·stride + v] += a · filter[u·8 + v] for u, v &lt; 8, one vector per filter row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scatter8(Vector256<float> a, ref float filter, ref float target, int stride)
    {
        for (int u = 0; u < 8; u++)
        {
            ref float t = ref Unsafe.Add(ref target, (nint)u * stride);
            Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref filter, (nuint)(u * 8)), Vector256.LoadUnsafe(ref t)).StoreUnsafe(ref t);
        }
    }

    /// <summary>
    /// destination[v] = fma(a, source[v], destination[v]) for v &lt; n: runs of the widest vector up to
    /// <paramref name="lanes"/> floats, then narrower ones, then single floats. Each element is one fused multiply-add
    /// whatever carries it, so the width changes no bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAddRow(float a, ref float source, ref float destination, int n, int lanes)
    {
        int v = 0;
        if (lanes >= 16)
        {
            var va = Vector512.Create(a);
            for (; v <= n - 16; v += 16)
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref source, (nuint)v), Vector512.LoadUnsafe(ref destination, (nuint)v))
                    .StoreUnsafe(ref destination, (nuint)v);
        }
        if (lanes >= 8)
        {
            var va = Vector256.Create(a);
            for (; v <= n - 8; v += 8)
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref source, (nuint)v), Vector256.LoadUnsafe(ref destination, (nuint)v))
                    .StoreUnsafe(ref destination, (nuint)v);
        }
        if (lanes >= 4)
        {
            var va = Vector128.Create(a);
            for (; v <= n - 4; v += 4)
                Vector128.FusedMultiplyAdd(va, Vector128.LoadUnsafe(ref source, (nuint)v), Vector128.LoadUnsafe(ref destination, (nuint)v))
                    .StoreUnsafe(ref destination, (nuint)v);
        }
        for (; v < n; v++)
        {
            ref float d = ref Unsafe.Add(ref destination, v);
            d = MathF.FusedMultiplyAdd(a, Unsafe.Add(ref source, v), d);
        }
    }

    /// <summary>One destination plane fg[k, c], using the plane itself for the float partial sums and totals for the double ones.</summary>
    private static void GradientPair(SparseMaps z, Tensor3 rx, bool[] g, FilterBank fg, int kc, Span<double> totals, int lanes)
    {
        int k = kc / fg.Inputs, c = kc % fg.Inputs, s = fg.Size, hz = z.Rows, rw = rx.Cols;
        Span<float> dst = fg.Data.AsSpan(kc * fg.PlaneLength, fg.PlaneLength);
        dst.Clear();
        if (!g[kc]) return;
        totals.Clear();
        int[] rowStart = z.RowStartArray, cols = z.ColumnArray;
        float[] values = z.ValueArray;
        ref float residual = ref rx.Data[c * rx.PlaneLength];
        ref float partial = ref MemoryMarshal.GetReference(dst);
        if (lanes >= 8 && s == 8)
        {
            Gradient8(rowStart, cols, values, k * hz, hz, ref residual, rw, totals);
        }
        else
        {
            int inBlock = 0;
            for (int p = 0; p < hz; p++)
            {
                ref float rrow = ref Unsafe.Add(ref residual, (nint)p * rw);
                for (int n = rowStart[k * hz + p], end = rowStart[k * hz + p + 1]; n < end; n++)
                {
                    float a = values[n];
                    ref float at = ref Unsafe.Add(ref rrow, cols[n]);
                    for (int u = 0; u < s; u++)
                        MultiplyAddRow(a, ref Unsafe.Add(ref at, (nint)u * rw), ref Unsafe.Add(ref partial, u * s), s, lanes);
                    if (++inBlock == GradientBlock)
                    {
                        Flush(dst, totals);
                        inBlock = 0;
                    }
                }
            }
            Flush(dst, totals);
        }
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)totals[i];
    }

    /// <summary>totals += partial; partial = 0.</summary>
    private static void Flush(Span<float> partial, Span<double> totals)
    {
        for (int i = 0; i < partial.Length; i++)
        {
            totals[i] += partial[i];
            partial[i] = 0;
        }
    }

    /// <summary>
    /// The s = 8 gradient plane with its eight float row sums in registers: the same products, blocks and order as the
    /// general loop, so the same bits.
    /// </summary>
    private static void Gradient8(int[] rowStart, int[] cols, float[] values, int firstRow, int hz, ref float residual, int rw, Span<double> totals)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int inBlock = 0;
        for (int p = 0; p < hz; p++)
        {
            ref float rrow = ref Unsafe.Add(ref residual, (nint)p * rw);
            for (int n = rowStart[firstRow + p], end = rowStart[firstRow + p + 1]; n < end; n++)
            {
                var a = Vector256.Create(values[n]);
                ref float at = ref Unsafe.Add(ref rrow, cols[n]);
                a0 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref at), a0);
                a1 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)rw)), a1);
                a2 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)2 * rw)), a2);
                a3 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)3 * rw)), a3);
                a4 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)4 * rw)), a4);
                a5 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)5 * rw)), a5);
                a6 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)6 * rw)), a6);
                a7 = Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, (nint)7 * rw)), a7);
                if (++inBlock == GradientBlock)
                {
                    Flush8(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, totals);
                    inBlock = 0;
                }
            }
        }
        Flush8(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, totals);
    }

    private static void Flush8(ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3,
        ref Vector256<float> a4, ref Vector256<float> a5, ref Vector256<float> a6, ref Vector256<float> a7, Span<double> totals)
    {
        ref double t = ref MemoryMarshal.GetReference(totals);
        FlushRow(ref a0, ref t);
        FlushRow(ref a1, ref Unsafe.Add(ref t, 8));
        FlushRow(ref a2, ref Unsafe.Add(ref t, 16));
        FlushRow(ref a3, ref Unsafe.Add(ref t, 24));
        FlushRow(ref a4, ref Unsafe.Add(ref t, 32));
        FlushRow(ref a5, ref Unsafe.Add(ref t, 40));
        FlushRow(ref a6, ref Unsafe.Add(ref t, 48));
        FlushRow(ref a7, ref Unsafe.Add(ref t, 56));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FlushRow(ref Vector256<float> row, ref double totals)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(row);
        (Vector256.LoadUnsafe(ref totals) + lower).StoreUnsafe(ref totals);
        (Vector256.LoadUnsafe(ref totals, 4) + upper).StoreUnsafe(ref totals, 4);
        row = default;
    }

    /// <summary>
    /// The widest run in floats: 16, 8, 4 or 1 (scalar). Auto is 8 where Vector256 is accelerated (the s = 8 kernels
    /// hold a filter row in one 256-bit register), else 1. Forced widths run in software where not accelerated.
    /// </summary>
    private static int Lanes(SimdPath path) => path switch
    {
        SimdPath.Vector512 => 16,
        SimdPath.Vector256 => 8,
        SimdPath.Vector128 => 4,
        SimdPath.Scalar => 1,
        _ => Vector256.IsHardwareAccelerated ? 8 : 1,
    };

}
