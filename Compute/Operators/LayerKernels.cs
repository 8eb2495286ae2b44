using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The valid-boundary kernels behind <see cref="LayerOperator"/>, vectorised and register-blocked (see
/// <see cref="MultiCorrelation"/> and <see cref="TapCorrelation"/>). Legend as there: z maps [K, Hz, Wz], y and r input
/// planes or residuals [C, H, W], f filters [K, C, s, s], g the connectivity as its raw [K, C] mask.
/// Every kernel validates its shapes, rejects a destination that aliases an input, and allocates nothing when
/// <c>degreeOfParallelism</c> is 1; above 1 it splits output planes (and row bands of them) over
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> with results bitwise equal to the serial ones.
/// </summary>
internal static class LayerKernels
{
    /// <summary>
    /// Effectively computes <c>y[c,i,j] = Σ_k g[k,c] Σ_{u,v} f[k,c,u,v] z[k, i+s−1−u, j+s−1−v]</c> (valid convolution),
    /// for z of shape [K, H+s−1, W+s−1] and y of shape [C, H, W].
    /// </summary>
    public static void Synthesize(Tensor3 z, FilterBank f, bool[] g, Tensor3 y, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        int s = f.Size;
        CheckMask(g, f);
        if (z.Planes != f.Maps || y.Planes != f.Inputs || z.Rows != y.Rows + s - 1 || z.Cols != y.Cols + s - 1)
            throw new ArgumentException($"synthesis of filters {f} reads maps [{f.Maps}, H+{s - 1}, W+{s - 1}] into [{f.Inputs}, H, W]; got maps {z} and destination {y}.", nameof(y));
        CheckDistinct(z.Data, y.Data, nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        if (y.Length == 0) return;
        RunPlanes(y.Planes, y.Rows, degreeOfParallelism, (z, f, g, y, path), static (a, c, rowStart, rowEnd) =>
        {
            // Convolution is correlation with the flipped filter: walk f[k,c] backwards from its last tap.
            int s2 = a.f.PlaneLength;
            MultiCorrelation.Rows(a.path,
                ref MemoryMarshal.GetArrayDataReference(a.z.Data), a.z.Planes, a.z.PlaneLength, a.z.Cols,
                ref a.f.Data[c * s2 + s2 - 1], (nint)a.f.Inputs * s2, -a.f.Size, -1,
                ref a.g[c], a.f.Inputs, a.f.Size,
                ref a.y.Data[c * a.y.PlaneLength], a.y.Cols, a.y.Cols, rowStart, rowEnd);
        });
    }

    /// <summary>
    /// Effectively computes <c>zg[k,p,q] = Σ_c g[k,c] Σ_{u,v} f[k,c,u,v] rp[c, p+u, q+v]</c> (valid correlation) for a
    /// padded residual rp of shape [C, Hz+s−1, Wz+s−1] and zg of shape [K, Hz, Wz]. With rp the residual framed by s−1
    /// zeros (<see cref="ZeroPad"/>) this is the valid adjoint (Hz = H+s−1); with rp the residual extended by wrap-around
    /// (<see cref="WrapExtend"/>) it is the circular one (Hz = H).
    /// </summary>
    public static void Adjoint(Tensor3 rp, FilterBank f, bool[] g, Tensor3 zg, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        int s = f.Size;
        CheckMask(g, f);
        if (rp.Planes != f.Inputs || zg.Planes != f.Maps || rp.Rows != zg.Rows + s - 1 || rp.Cols != zg.Cols + s - 1)
            throw new ArgumentException($"the adjoint of filters {f} reads padded residuals [{f.Inputs}, Hz+{s - 1}, Wz+{s - 1}] into [{f.Maps}, Hz, Wz]; got {rp} and destination {zg}.", nameof(zg));
        CheckDistinct(rp.Data, zg.Data, nameof(zg));
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        if (zg.Length == 0) return;
        RunPlanes(zg.Planes, zg.Rows, degreeOfParallelism, (rp, f, g, zg, path), static (a, k, rowStart, rowEnd) =>
        {
            int s2 = a.f.PlaneLength;
            MultiCorrelation.Rows(a.path,
                ref MemoryMarshal.GetArrayDataReference(a.rp.Data), a.rp.Planes, a.rp.PlaneLength, a.rp.Cols,
                ref a.f.Data[k * a.f.Inputs * s2], s2, a.f.Size, 1,
                ref a.g[k * a.f.Inputs], 1, a.f.Size,
                ref a.zg.Data[k * a.zg.PlaneLength], a.zg.Cols, a.zg.Cols, rowStart, rowEnd);
        });
    }

    /// <summary>
    /// Effectively computes <c>fg[k,c,u,v] = (accumulate ? fg[k,c,u,v] : 0) + g[k,c] Σ_{i,j} r[c,i,j] z[k, i+s−1−u, j+s−1−v]</c>
    /// for z of shape [K, H+s−1, W+s−1] and r of shape [C, H, W]; unconnected planes are zeroed (or left as they are
    /// when accumulating). Sums are taken in float along a row and in double across rows.
    /// </summary>
    public static void FilterGradient(Tensor3 z, Tensor3 r, bool[] g, FilterBank fg, bool accumulate = false, int degreeOfParallelism = 1, SimdPath path = SimdPath.Auto)
    {
        int s = fg.Size;
        CheckMask(g, fg);
        if (z.Planes != fg.Maps || r.Planes != fg.Inputs || z.Rows != r.Rows + s - 1 || z.Cols != r.Cols + s - 1)
            throw new ArgumentException($"the filter gradient {fg} reads maps [{fg.Maps}, H+{s - 1}, W+{s - 1}] and residuals [{fg.Inputs}, H, W]; got {z} and {r}.", nameof(fg));
        CheckDistinct(z.Data, fg.Data, nameof(fg));
        CheckDistinct(r.Data, fg.Data, nameof(fg));
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        int pairs = fg.Maps * fg.Inputs;
        if (degreeOfParallelism == 1 || pairs == 1)
        {
            for (int kc = 0; kc < pairs; kc++) GradientPlane(z, r, g, fg, accumulate, path, kc);
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism };
        Parallel.For(0, pairs, options, kc => GradientPlane(z, r, g, fg, accumulate, path, kc));
    }

    private static void GradientPlane(Tensor3 z, Tensor3 r, bool[] g, FilterBank fg, bool accumulate, SimdPath path, int kc)
    {
        int k = kc / fg.Inputs, c = kc % fg.Inputs;
        Span<float> dst = fg.Plane(k, c);
        if (!g[kc] || r.PlaneLength == 0)
        {
            if (!accumulate) dst.Clear();
            return;
        }
        TapCorrelation.Taps(path, ref r.Data[c * r.PlaneLength], r.Rows, r.Cols, ref z.Data[k * z.PlaneLength], z.Cols, fg.Size,
            ref MemoryMarshal.GetReference(dst), accumulate);
    }

    /// <summary>padded[c, i+m, j+m] = r[c, i, j], zero elsewhere: the frame that turns the full correlation into a valid one.</summary>
    public static void ZeroPad(Tensor3 r, Tensor3 padded, int margin)
    {
        if (padded.Planes != r.Planes || padded.Rows != r.Rows + 2 * margin || padded.Cols != r.Cols + 2 * margin)
            throw new ArgumentException($"padding {r} by {margin} needs [{r.Planes}, {r.Rows + 2 * margin}, {r.Cols + 2 * margin}]; got {padded}.", nameof(padded));
        CheckDistinct(r.Data, padded.Data, nameof(padded));
        padded.Clear();
        for (int c = 0; c < r.Planes; c++)
            for (int i = 0; i < r.Rows; i++)
                r.ReadPlane(c).Slice(i * r.Cols, r.Cols).CopyTo(padded.Plane(c).Slice((i + margin) * padded.Cols + margin, r.Cols));
    }

    /// <summary>extended[c, i, j] = r[c, i mod H, j mod W] for i &lt; H+m, j &lt; W+m: the circular adjoint's input.</summary>
    public static void WrapExtend(Tensor3 r, Tensor3 extended, int margin)
    {
        if (extended.Planes != r.Planes || extended.Rows != r.Rows + margin || extended.Cols != r.Cols + margin)
            throw new ArgumentException($"extending {r} by {margin} needs [{r.Planes}, {r.Rows + margin}, {r.Cols + margin}]; got {extended}.", nameof(extended));
        CheckDistinct(r.Data, extended.Data, nameof(extended));
        int h = r.Rows, w = r.Cols, ew = extended.Cols;
        if (r.Length == 0) return;
        for (int c = 0; c < r.Planes; c++)
        {
            ReadOnlySpan<float> src = r.ReadPlane(c);
            Span<float> dst = extended.Plane(c);
            for (int i = 0; i < extended.Rows; i++)
            {
                ReadOnlySpan<float> row = src.Slice(i % h * w, w);
                Span<float> drow = dst.Slice(i * ew, ew);
                for (int start = 0; start < ew; start += w)
                    row[..Math.Min(w, ew - start)].CopyTo(drow[start..]);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(args, plane, rowStart, rowEnd) over every plane; with more than one thread, planes
    /// are cut into row bands (of at least four rows) until there is work for every thread.
    /// </summary>
    private static void RunPlanes<TArgs>(int planes, int rows, int degreeOfParallelism, TArgs args, Action<TArgs, int, int, int> body)
    {
        if (degreeOfParallelism == 1)
        {
            for (int p = 0; p < planes; p++) body(args, p, 0, rows);
            return;
        }
        int bands = planes >= degreeOfParallelism ? 1 : Math.Clamp((degreeOfParallelism + planes - 1) / planes, 1, Math.Max(1, rows / 4));
        var options = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism };
        Parallel.For(0, planes * bands, options, item =>
        {
            int p = item / bands, band = item % bands;
            body(args, p, (int)((long)rows * band / bands), (int)((long)rows * (band + 1) / bands));
        });
    }

    internal static void CheckMask(bool[] g, FilterBank f)
    {
        ArgumentNullException.ThrowIfNull(g);
        if (g.Length != f.Maps * f.Inputs)
            throw new ArgumentException($"the connectivity mask has {g.Length} entries; filters {f} need {f.Maps * f.Inputs}.", nameof(g));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckDistinct(float[] a, float[] b, string name)
    {
        if (ReferenceEquals(a, b)) throw new ArgumentException("destination must not alias an input.", name);
    }
}
