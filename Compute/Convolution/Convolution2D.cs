using System.Runtime.InteropServices;

namespace Distributed.Compute.Convolution;

/// <summary>
/// Single-plane 2-D correlation and convolution. Legend: x one plane [rows, cols], row-major; k one square kernel
/// [s, s]; destination one plane, row-major, of the size each method names (it may be longer; only that prefix is
/// written). "Correlation" slides k as it is, "convolution" slides it flipped; "valid" keeps the outputs whose window
/// lies inside x, "full" every output whose window touches x (x is zero outside). All four run on the register-blocked
/// core of <see cref="MultiCorrelation"/>; full ones do their inner block there and the (s−1)-wide frame, where windows
/// leave x, in scalar code. They allocate nothing and reject a destination that overlaps x or k.
/// </summary>
public static class Convolution2D
{
    private static readonly bool[] Active = [true];

    /// <summary>Effectively computes <c>destination[i, j] = Σ_{u,v &lt; s} k[u, v] · x[i+u, j+v]</c>, destination [rows−s+1, cols−s+1].</summary>
    public static void CorrelateValid(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination) =>
        Valid(x, rows, cols, k, s, destination, flip: false, SimdPath.Auto);

    /// <summary>Effectively computes <c>destination[i, j] = Σ_{u,v &lt; s} k[u, v] · x[i+s−1−u, j+s−1−v]</c>, destination [rows−s+1, cols−s+1].</summary>
    public static void ConvolveValid(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination) =>
        Valid(x, rows, cols, k, s, destination, flip: true, SimdPath.Auto);

    /// <summary>
    /// Effectively computes <c>destination[i, j] = Σ_{u,v &lt; s} k[u, v] · x[i+u−s+1, j+v−s+1]</c> (x zero outside),
    /// destination [rows+s−1, cols+s−1]: the adjoint of <see cref="ConvolveValid"/>.
    /// </summary>
    public static void CorrelateFull(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination) =>
        Full(x, rows, cols, k, s, destination, flip: false, SimdPath.Auto);

    /// <summary>
    /// Effectively computes <c>destination[i, j] = Σ_{u,v &lt; s} k[u, v] · x[i−u, j−v]</c> (x zero outside),
    /// destination [rows+s−1, cols+s−1]: the adjoint of <see cref="CorrelateValid"/>.
    /// </summary>
    public static void ConvolveFull(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination) =>
        Full(x, rows, cols, k, s, destination, flip: true, SimdPath.Auto);

    internal static void Valid(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination, bool flip, SimdPath path)
    {
        Check(x, rows, cols, k, s, destination, rows - s + 1, cols - s + 1, "valid");
        if (s > rows || s > cols)
            throw new ArgumentException($"a {s}×{s} kernel has no valid position on a {rows}×{cols} plane.", nameof(s));
        int outRows = rows - s + 1, outCols = cols - s + 1;
        ref float w = ref Tap(k, s, flip, out nint wRow, out nint wCol);
        MultiCorrelation.Rows(path,
            ref MemoryMarshal.GetReference(x), 1, 0, cols,
            ref w, 0, wRow, wCol,
            ref Active[0], 0, s,
            ref MemoryMarshal.GetReference(destination), outCols, outCols, 0, outRows);
    }

    internal static void Full(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination, bool flip, SimdPath path)
    {
        int outRows = rows + s - 1, outCols = cols + s - 1, m = s - 1;
        Check(x, rows, cols, k, s, destination, outRows, outCols, "full");
        if (rows == 0 || cols == 0)
        {
            destination[..(outRows * outCols)].Clear();
            return;
        }
        // As a correlation with the kernel read forwards (wRow, wCol) from w: d[i, j] = Σ w[u,v] x[i+u−m, j+v−m].
        ref float w = ref Tap(k, s, flip, out nint wRow, out nint wCol);
        // Inner block: windows inside x, i, j ∈ [m, rows) × [m, cols), a valid correlation written at offset (m, m).
        if (rows >= s && cols >= s)
            MultiCorrelation.Rows(path,
                ref MemoryMarshal.GetReference(x), 1, 0, cols,
                ref w, 0, wRow, wCol,
                ref Active[0], 0, s,
                ref destination[m * outCols + m], cols - m, outCols, 0, rows - m);
        // Frame: every output whose window leaves x, summed over the taps that stay inside.
        for (int i = 0; i < outRows; i++)
        {
            bool innerRow = i >= m && i < rows;
            for (int j = 0; j < outCols; j++)
            {
                if (innerRow && j >= m && j < cols && rows >= s && cols >= s) { j = cols - 1; continue; }
                int uLo = Math.Max(0, m - i), uHi = Math.Min(s - 1, rows - 1 + m - i);
                int vLo = Math.Max(0, m - j), vHi = Math.Min(s - 1, cols - 1 + m - j);
                float sum = 0;
                for (int u = uLo; u <= uHi; u++)
                    for (int v = vLo; v <= vHi; v++)
                        sum = MathF.FusedMultiplyAdd(System.Runtime.CompilerServices.Unsafe.Add(ref w, u * wRow + v * wCol), x[(i + u - m) * cols + j + v - m], sum);
                destination[i * outCols + j] = sum;
            }
        }
    }

    /// <summary>The kernel as a correlation reads it: forwards from k[0,0], or backwards from k[s−1,s−1] when flipped.</summary>
    private static ref float Tap(ReadOnlySpan<float> k, int s, bool flip, out nint wRow, out nint wCol)
    {
        ref float k0 = ref MemoryMarshal.GetReference(k);
        wRow = flip ? -s : s;
        wCol = flip ? -1 : 1;
        return ref flip ? ref System.Runtime.CompilerServices.Unsafe.Add(ref k0, s * s - 1) : ref k0;
    }

    private static void Check(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> k, int s, Span<float> destination, int outRows, int outCols, string kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(s);
        if (x.Length < (long)rows * cols)
            throw new ArgumentException($"x holds {x.Length} values; a {rows}×{cols} plane needs {(long)rows * cols}.", nameof(x));
        if (k.Length < s * s)
            throw new ArgumentException($"k holds {k.Length} values; a {s}×{s} kernel needs {s * s}.", nameof(k));
        if (outRows > 0 && outCols > 0 && destination.Length < (long)outRows * outCols)
            throw new ArgumentException($"destination holds {destination.Length} values; the {kind} result is {outRows}×{outCols}.", nameof(destination));
        if (x.Overlaps(destination) || k.Overlaps(destination))
            throw new ArgumentException("destination must not overlap an input.", nameof(destination));
    }
}
