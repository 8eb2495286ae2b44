using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// ‖FᵀF‖ for single-plane layers from the filters' frequency responses: F is a sum of convolutions, so
/// ‖FᵀF‖ = sup_ω Σ_k |f̂_k(ω)|² (exact on an N×N grid for circular N×N images; for valid boundaries F is a crop of the
/// full convolution, whose norm is the continuous sup). The sup is sampled on a grid of at least 8s points per axis
/// (the responses are trigonometric polynomials of degree s−1, smooth at that spacing). Costs O(K·s·G²), no images.
/// </summary>
public static class SpectralBound
{
    /// <summary>The bound for <c>f.Inputs == 1</c>; null for multi-plane layers (use power iteration there).</summary>
    public static double? NormalOperatorNorm(FilterBank f, int gridSize = 0)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (f.Inputs != 1) return null;
        int s = f.Size, n = Math.Max(gridSize, Math.Max(32, 8 * s));
        // Twiddles e^{−2πi·u·m/n} for u < s, m < n.
        var cos = new double[s * n];
        var sin = new double[s * n];
        for (int u = 0; u < s; u++)
            for (int m = 0; m < n; m++)
            {
                double a = -2 * Math.PI * u * m / n;
                cos[u * n + m] = Math.Cos(a);
                sin[u * n + m] = Math.Sin(a);
            }
        var power = new double[n * n];
        var rowRe = new double[s * n];
        var rowIm = new double[s * n];
        for (int k = 0; k < f.Maps; k++)
        {
            ReadOnlySpan<float> plane = f.ReadPlane(k, 0);
            // Transform along columns: for each filter row u, ĝ_u(m) = Σ_v f[u,v] e^{−2πi v m / n}.
            for (int u = 0; u < s; u++)
                for (int m = 0; m < n; m++)
                {
                    double re = 0, im = 0;
                    for (int v = 0; v < s; v++)
                    {
                        re += plane[u * s + v] * cos[v * n + m];
                        im += plane[u * s + v] * sin[v * n + m];
                    }
                    rowRe[u * n + m] = re;
                    rowIm[u * n + m] = im;
                }
            // Then along rows: f̂(l, m) = Σ_u ĝ_u(m) e^{−2πi u l / n}; accumulate |f̂|².
            for (int l = 0; l < n; l++)
                for (int m = 0; m < n; m++)
                {
                    double re = 0, im = 0;
                    for (int u = 0; u < s; u++)
                    {
                        double c = cos[u * n + l], si = sin[u * n + l];
                        re += rowRe[u * n + m] * c - rowIm[u * n + m] * si;
                        im += rowRe[u * n + m] * si + rowIm[u * n + m] * c;
                    }
                    power[l * n + m] += re * re + im * im;
                }
        }
        return power.Max();
    }
}
