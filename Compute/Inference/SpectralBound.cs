using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// An upper bound on ‖FᵀF‖ for single-plane layers at one image size, from the filters' frequency responses
/// P(ω) = Σ_k |f̂_k(ω)|², sampled on a grid that makes the sampled maximum a bound:
/// <list type="bullet">
/// <item>Circular H×W: FᵀF is block circulant, its eigenvalues are P on the H×W DFT grid: the grid's maximum is the
/// norm itself.</item>
/// <item>Valid: maps are (H+s−1)×(W+s−1) and F z never wraps on a torus of that size, so F is a crop of the circular
/// operator there (and on any larger torus): P's maximum on any grid of at least (H+s−1)×(W+s−1) points bounds
/// ‖FᵀF‖ (tightly for images much larger than the filter).</item>
/// <item>When that grid exceeds <see cref="BernsteinGrid"/>² points (large images), a G×G grid with the bound
/// max P ≤ max_grid P / (1 − ½(2π d / G)²), d = s − 1: at P's maximum ∇P = 0, and Bernstein's inequality bounds every
/// second derivative of a trigonometric polynomial of degree d by d² max P, so P at the nearest grid point (each
/// coordinate within π/G) is at least max P · (1 − ½ d² (2π/G)²). G ≈ 44.5 d keeps that factor below 1.01.</item>
/// </list>
/// Costs O(K·s·points); no images are touched.
/// </summary>
public static class SpectralBound
{
    /// <summary>The bound for <c>f.Inputs == 1</c> on <paramref name="geometry"/>'s image size; null for multi-plane layers.</summary>
    public static double? NormalOperatorNorm(FilterBank f, LayerGeometry geometry) => NormalOperatorNorm(f, geometry, maxGridPoints: -1);

    /// <param name="maxGridPoints">Grids above this many points use the Bernstein bound (−1: <see cref="BernsteinGrid"/>²);
    /// tests lower it to exercise that path on small images.</param>
    internal static double? NormalOperatorNorm(FilterBank f, LayerGeometry geometry, long maxGridPoints)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(geometry);
        if (f.Inputs != 1) return null;
        int d = f.Size - 1;
        int bernstein = BernsteinGrid(f.Size);
        if (maxGridPoints < 0) maxGridPoints = (long)bernstein * bernstein;
        // Circular: exactly the image's grid. Valid: the smallest torus on which the valid maps do not wrap.
        int rows = geometry.MapRows, cols = geometry.MapCols;
        if ((long)rows * cols <= maxGridPoints) return MaxResponse(f, rows, cols);
        double slack = 2 * Math.PI * d / bernstein;
        return MaxResponse(f, bernstein, bernstein) / (1 - 0.5 * slack * slack);
    }

    /// <summary>The side of the square grid for the Bernstein bound of filters of size s: ⌈44.5 (s − 1)⌉, at least 8.</summary>
    internal static int BernsteinGrid(int filterSize) => Math.Max(8, (int)Math.Ceiling(44.5 * (filterSize - 1)));

    /// <summary>max over the rows × cols DFT grid of Σ_k |f̂_k(ω)|².</summary>
    internal static double MaxResponse(FilterBank f, int rows, int cols)
    {
        int s = f.Size;
        // Twiddles e^{−2πi·u·m/n} for u < s: along columns (n = cols) and rows (n = rows).
        var (colCos, colSin) = Twiddles(s, cols);
        var (rowCos, rowSin) = Twiddles(s, rows);
        var power = new double[rows * cols];
        var partRe = new double[s * cols];
        var partIm = new double[s * cols];
        for (int k = 0; k < f.Maps; k++)
        {
            ReadOnlySpan<float> plane = f.ReadPlane(k, 0);
            // Along columns: for each filter row u, ĝ_u(m) = Σ_v f[u,v] e^{−2πi v m / cols}.
            for (int u = 0; u < s; u++)
                for (int m = 0; m < cols; m++)
                {
                    double re = 0, im = 0;
                    for (int v = 0; v < s; v++)
                    {
                        re += plane[u * s + v] * colCos[v * cols + m];
                        im += plane[u * s + v] * colSin[v * cols + m];
                    }
                    partRe[u * cols + m] = re;
                    partIm[u * cols + m] = im;
                }
            // Then along rows: f̂(l, m) = Σ_u ĝ_u(m) e^{−2πi u l / rows}; accumulate |f̂|².
            for (int l = 0; l < rows; l++)
                for (int m = 0; m < cols; m++)
                {
                    double re = 0, im = 0;
                    for (int u = 0; u < s; u++)
                    {
                        double c = rowCos[u * rows + l], si = rowSin[u * rows + l];
                        re += partRe[u * cols + m] * c - partIm[u * cols + m] * si;
                        im += partRe[u * cols + m] * si + partIm[u * cols + m] * c;
                    }
                    power[l * cols + m] += re * re + im * im;
                }
        }
        return power.Max();
    }

    private static (double[] Cos, double[] Sin) Twiddles(int s, int n)
    {
        var cos = new double[s * n];
        var sin = new double[s * n];
        for (int u = 0; u < s; u++)
            for (int m = 0; m < n; m++)
            {
                // u·m mod n keeps the angle small, so large grids lose no accuracy to the argument reduction.
                double a = -2 * Math.PI * ((long)u * m % n) / n;
                cos[u * n + m] = Math.Cos(a);
                sin[u * n + m] = Math.Sin(a);
            }
        return (cos, sin);
    }
}
