using System.Numerics.Tensors;

namespace Distributed.Compute.Convolution;

/// <summary>
/// Multi-channel strided convolution (cross-correlation, as deep-learning layers define it) and its exact transpose.
/// Legend (see <see cref="StridedGeometry"/>): x [C, H, W]; y [K, OH, OW]; w [K, C, M, N]; S stride; P padding.
/// <list type="bullet">
/// <item><see cref="Convolve"/>: <c>y[k,i,j] = Σ_{c,m,n} w[k,c,m,n] · x[c, i·S+m−P, j·S+n−P]</c> (x zero outside).</item>
/// <item><see cref="ConvolveTransposed"/>: <c>x̂[c,p,q] = Σ_{k,i,j,m,n : i·S+m−P = p, j·S+n−P = q} w[k,c,m,n] · y[k,i,j]</c>,
/// so ⟨Convolve(x), y⟩ = ⟨x, ConvolveTransposed(y)⟩ exactly (up to rounding).</item>
/// </list>
/// Both run row by row; at stride 1 the inner loop over a row is a vectorised multiply-add. With
/// <c>degreeOfParallelism</c> above 1 output planes are spread over threads, each plane summed in the same order.
/// </summary>
public static class StridedConvolution
{
    /// <summary>
    /// Effectively computes y = conv(x, w) with stride and padding, y overwritten; optionally over several threads
    /// (arrays rather than spans, since the threads share them).
    /// </summary>
    public static void Convolve(StridedGeometry geometry, float[] x, float[] w, float[] y, int degreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(y);
        Check(geometry, x.Length, geometry.InputLength, w, y.Length, geometry.OutputLength, x.AsSpan().Overlaps(y) || w.AsSpan().Overlaps(y), "x", "y");
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        ForPlanes(geometry.Filters, degreeOfParallelism, k => ConvolvePlane(geometry, x, w, y, k));
    }

    /// <summary>Effectively computes x̂ = convᵀ(y, w), optionally over several threads; x̂ is overwritten.</summary>
    public static void ConvolveTransposed(StridedGeometry geometry, float[] y, float[] w, float[] destination, int degreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(destination);
        Check(geometry, y.Length, geometry.OutputLength, w, destination.Length, geometry.InputLength, y.AsSpan().Overlaps(destination) || w.AsSpan().Overlaps(destination), "y", "destination");
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        ForPlanes(geometry.Channels, degreeOfParallelism, c => TransposedPlane(geometry, y, w, destination, c));
    }

    private static void ForPlanes(int planes, int degreeOfParallelism, Action<int> body)
    {
        if (degreeOfParallelism == 1 || planes == 1)
        {
            for (int p = 0; p < planes; p++) body(p);
            return;
        }
        Parallel.For(0, planes, new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism }, body);
    }

    /// <summary>y[k] = Σ_{c,m,n} w[k,c,m,n] · (x[c] sampled at stride S from offset (m−P, n−P)).</summary>
    private static void ConvolvePlane(StridedGeometry g, float[] x, float[] w, float[] y, int k)
    {
        int oh = g.OutputRows, ow = g.OutputCols, h = g.Rows, wd = g.Cols, s = g.Stride, p = g.Padding;
        Span<float> yk = y.AsSpan(k * oh * ow, oh * ow);
        yk.Clear();
        for (int c = 0; c < g.Channels; c++)
        {
            ReadOnlySpan<float> xc = x.AsSpan(c * h * wd, h * wd);
            for (int m = 0; m < g.KernelRows; m++)
                for (int n = 0; n < g.KernelCols; n++)
                {
                    float wv = w[((k * g.Channels + c) * g.KernelRows + m) * g.KernelCols + n];
                    var (jLo, jHi) = Range(n - p, s, wd, ow);
                    if (jLo > jHi) continue;
                    for (int i = 0; i < oh; i++)
                    {
                        int row = i * s + m - p;
                        if ((uint)row >= (uint)h) continue;
                        Span<float> yrow = yk.Slice(i * ow + jLo, jHi - jLo + 1);
                        int q0 = row * wd + jLo * s + n - p;
                        if (s == 1)
                        {
                            ReadOnlySpan<float> xrow = xc.Slice(q0, yrow.Length);
                            TensorPrimitives.MultiplyAdd(xrow, wv, yrow, yrow);
                        }
                        else
                        {
                            for (int j = 0; j < yrow.Length; j++) yrow[j] = MathF.FusedMultiplyAdd(wv, xc[q0 + j * s], yrow[j]);
                        }
                    }
                }
        }
    }

    /// <summary>x̂[c] = Σ_{k,m,n} w[k,c,m,n] · (y[k] scattered at stride S to offset (m−P, n−P)).</summary>
    private static void TransposedPlane(StridedGeometry g, float[] y, float[] w, float[] destination, int c)
    {
        int oh = g.OutputRows, ow = g.OutputCols, h = g.Rows, wd = g.Cols, s = g.Stride, p = g.Padding;
        Span<float> xc = destination.AsSpan(c * h * wd, h * wd);
        xc.Clear();
        for (int k = 0; k < g.Filters; k++)
        {
            ReadOnlySpan<float> yk = y.AsSpan(k * oh * ow, oh * ow);
            for (int m = 0; m < g.KernelRows; m++)
                for (int n = 0; n < g.KernelCols; n++)
                {
                    float wv = w[((k * g.Channels + c) * g.KernelRows + m) * g.KernelCols + n];
                    var (jLo, jHi) = Range(n - p, s, wd, ow);
                    if (jLo > jHi) continue;
                    for (int i = 0; i < oh; i++)
                    {
                        int row = i * s + m - p;
                        if ((uint)row >= (uint)h) continue;
                        ReadOnlySpan<float> yrow = yk.Slice(i * ow + jLo, jHi - jLo + 1);
                        int q0 = row * wd + jLo * s + n - p;
                        if (s == 1)
                        {
                            Span<float> xrow = xc.Slice(q0, yrow.Length);
                            TensorPrimitives.MultiplyAdd(yrow, wv, xrow, xrow);
                        }
                        else
                        {
                            for (int j = 0; j < yrow.Length; j++) xc[q0 + j * s] = MathF.FusedMultiplyAdd(wv, yrow[j], xc[q0 + j * s]);
                        }
                    }
                }
        }
    }

    /// <summary>The output columns j &lt; count whose input column j·S + offset lies in [0, length).</summary>
    private static (int Lo, int Hi) Range(int offset, int stride, int length, int count)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = Math.Min(count - 1, FloorDiv(length - 1 - offset, stride));
        return (lo, hi);
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static void Check(StridedGeometry g, int inLength, int inNeeded, ReadOnlySpan<float> w, int outLength, int outNeeded, bool overlap, string inName, string outName)
    {
        ArgumentNullException.ThrowIfNull(g);
        if (inLength != inNeeded)
            throw new ArgumentException($"{inName} holds {inLength} values; this geometry needs {inNeeded}.", inName);
        if (w.Length != g.WeightLength)
            throw new ArgumentException($"w holds {w.Length} values; [{g.Filters}, {g.Channels}, {g.KernelRows}, {g.KernelCols}] needs {g.WeightLength}.", nameof(w));
        if (outLength != outNeeded)
            throw new ArgumentException($"{outName} holds {outLength} values; this geometry gives {outNeeded}.", outName);
        if (overlap)
            throw new ArgumentException("destination must not overlap an input.", outName);
    }
}
