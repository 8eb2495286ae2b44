namespace Distributed.Compute.Imaging;

/// <summary>
/// Local contrast normalisation as in Zeiler's 2010 toolbox (CreateImages.m): with G the 5×5 Gaussian of
/// σ = 1.591 (MATLAB's <c>fspecial('gaussian', [5 5], 1.591)</c>, normalised to sum 1),
/// <c>m = G ∗ x</c>, <c>σ_loc = sqrt(max(G ∗ x² − m², 0))</c>, <c>out = (x − m) / max(σ_loc, floor)</c>.
/// Differences from the toolbox, both deliberate: borders are symmetric (edge sample repeated: x[−1] = x[0],
/// x[−2] = x[1], numpy's and MATLAB's 'symmetric') so the output keeps the input's size where the toolbox's 'valid'
/// convolution cropped 2 pixels a side; and pixels are in [0, 1] rather than the toolbox's [0, 255] grey, so its
/// std floor of 1 becomes 1/255 here — the same normalisation, (x − m) / max(σ_loc, 1) in 8-bit units.
/// </summary>
public static class LocalContrast
{
    public const int Size = 5;
    public const double Sigma = 1.591;

    /// <summary>The toolbox's floor of 1 grey level, in [0, 1] units.</summary>
    public const double DefaultStdFloor = 1.0 / 255.0;

    /// <summary>The separable factor g of G = g gᵀ: g[d] ∝ exp(−d² / 2σ²), d = −2..2, Σ g = 1.</summary>
    public static double[] Weights()
    {
        var w = new double[Size];
        double sum = 0;
        for (int d = 0; d < Size; d++)
        {
            int x = d - Size / 2;
            w[d] = Math.Exp(-x * x / (2 * Sigma * Sigma));
            sum += w[d];
        }
        for (int d = 0; d < Size; d++) w[d] /= sum;
        return w;
    }

    /// <summary>
    /// Effectively computes destination[i] = (x[i] − m[i]) / max(σ_loc[i], stdFloor) for one rows × cols plane.
    /// Works in double; allocates its scratch (it runs once per image plane, not in a training loop).
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> plane, int rows, int cols, double stdFloor, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (plane.Length != rows * cols) throw new ArgumentException($"plane has {plane.Length} elements; {rows}×{cols} needs {rows * cols}.", nameof(plane));
        if (destination.Length != plane.Length) throw new ArgumentException($"destination has {destination.Length} elements; needs {plane.Length}.", nameof(destination));
        if (!(stdFloor > 0) || double.IsInfinity(stdFloor)) throw new ArgumentOutOfRangeException(nameof(stdFloor), $"std floor = {stdFloor}; allowed: a finite number > 0.");
        int n = rows * cols;
        if (n == 0) return;

        double[] w = Weights();
        var x = new double[n];
        var squares = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = plane[i];
            squares[i] = x[i] * x[i];
        }
        double[] mean = SymmetricFilter.Separable(x, rows, cols, w);
        double[] meanOfSquares = SymmetricFilter.Separable(squares, rows, cols, w);
        for (int i = 0; i < n; i++)
        {
            double variance = Math.Max(meanOfSquares[i] - mean[i] * mean[i], 0);
            destination[i] = (float)((x[i] - mean[i]) / Math.Max(Math.Sqrt(variance), stdFloor));
        }
    }
}

/// <summary>Correlation with a separable, odd-length kernel w wᵀ under symmetric borders (numpy 'symmetric').</summary>
internal static class SymmetricFilter
{
    /// <summary>Effectively computes out[r, c] = Σ_{a,b} w[a] w[b] x[sym(r + a − h), sym(c + b − h)], h = len(w) / 2.</summary>
    public static double[] Separable(double[] x, int rows, int cols, double[] w)
    {
        int h = w.Length / 2;
        var across = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            int row = r * cols;
            for (int c = 0; c < cols; c++)
            {
                double s = 0;
                for (int d = 0; d < w.Length; d++) s += w[d] * x[row + Reflect(c + d - h, cols)];
                across[row + c] = s;
            }
        }
        var result = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double s = 0;
                for (int d = 0; d < w.Length; d++) s += w[d] * across[Reflect(r + d - h, rows) * cols + c];
                result[r * cols + c] = s;
            }
        }
        return result;
    }

    /// <summary>numpy's 'symmetric' extension of an axis of length n, for any index: period 2n, edge sample repeated.</summary>
    public static int Reflect(int i, int n)
    {
        int m = i % (2 * n);
        if (m < 0) m += 2 * n;
        return m < n ? m : 2 * n - 1 - m;
    }
}
