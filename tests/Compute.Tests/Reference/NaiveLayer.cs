using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Reference;

/// <summary>
/// The naive scalar oracle for the layer kernels: the defining sums written as plainly as possible, accumulated in
/// double. Legend: y, r input planes / residuals [C, H, W]; z valid-size maps [K, H+s−1, W+s−1]; f filters [K, C, s, s];
/// g connectivity [K, C]. Only correctness matters here, never speed.
/// </summary>
internal static class NaiveLayer
{
    /// <summary>y[c,i,j] = Σ_k g[k,c] Σ_{u,v} f[k,c,u,v] z[k, i+s−1−u, j+s−1−v].</summary>
    public static Tensor3 Synthesize(Tensor3 z, FilterBank f, Connectivity g, int h, int w)
    {
        int s = f.Size;
        var y = new Tensor3(f.Inputs, h, w);
        for (int c = 0; c < f.Inputs; c++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < f.Maps; k++)
                    {
                        if (!g[k, c]) continue;
                        for (int u = 0; u < s; u++)
                            for (int v = 0; v < s; v++)
                                sum += (double)f[k, c, u, v] * z[k, i + s - 1 - u, j + s - 1 - v];
                    }
                    y[c, i, j] = (float)sum;
                }
        return y;
    }

    /// <summary>zg[k,p,q] = Σ_c g[k,c] Σ_{u,v} f[k,c,u,v] r[c, p−s+1+u, q−s+1+v], zero outside r.</summary>
    public static Tensor3 Adjoint(Tensor3 r, FilterBank f, Connectivity g)
    {
        int s = f.Size, h = r.Rows, w = r.Cols;
        var zg = new Tensor3(f.Maps, h + s - 1, w + s - 1);
        for (int k = 0; k < f.Maps; k++)
            for (int p = 0; p < zg.Rows; p++)
                for (int q = 0; q < zg.Cols; q++)
                {
                    double sum = 0;
                    for (int c = 0; c < f.Inputs; c++)
                    {
                        if (!g[k, c]) continue;
                        for (int u = 0; u < s; u++)
                        {
                            int i = p - s + 1 + u;
                            if (i < 0 || i >= h) continue;
                            for (int v = 0; v < s; v++)
                            {
                                int j = q - s + 1 + v;
                                if (j < 0 || j >= w) continue;
                                sum += (double)f[k, c, u, v] * r[c, i, j];
                            }
                        }
                    }
                    zg[k, p, q] = (float)sum;
                }
        return zg;
    }

    /// <summary>fg[k,c,u,v] = g[k,c] Σ_{i,j} r[c,i,j] z[k, i+s−1−u, j+s−1−v].</summary>
    public static FilterBank FilterGradient(Tensor3 z, Tensor3 r, Connectivity g, int s)
    {
        var fg = new FilterBank(z.Planes, r.Planes, s);
        for (int k = 0; k < z.Planes; k++)
            for (int c = 0; c < r.Planes; c++)
            {
                if (!g[k, c]) continue;
                for (int u = 0; u < s; u++)
                    for (int v = 0; v < s; v++)
                    {
                        double sum = 0;
                        for (int i = 0; i < r.Rows; i++)
                            for (int j = 0; j < r.Cols; j++)
                                sum += (double)r[c, i, j] * z[k, i + s - 1 - u, j + s - 1 - v];
                        fg[k, c, u, v] = (float)sum;
                    }
            }
        return fg;
    }

    /// <summary>gram[pair][(u,v),(u′,v′)] = Σ_{i&lt;h, j&lt;w} z_k[i+s−1−u, j+s−1−v] · z_{k′}[i+s−1−u′, j+s−1−v′].</summary>
    public static double[] Gram(Tensor3 z, int h, int w, int s, IReadOnlyList<(int K1, int K2)> pairs)
    {
        int s2 = s * s;
        var gram = new double[pairs.Count * s2 * s2];
        for (int p = 0; p < pairs.Count; p++)
        {
            var (k1, k2) = pairs[p];
            for (int uv = 0; uv < s2; uv++)
                for (int uv2 = 0; uv2 < s2; uv2++)
                {
                    int ai = s - 1 - uv / s, aj = s - 1 - uv % s, bi = s - 1 - uv2 / s, bj = s - 1 - uv2 % s;
                    double sum = 0;
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < w; j++)
                            sum += (double)z[k1, i + ai, j + aj] * z[k2, i + bi, j + bj];
                    gram[(p * s2 + uv) * s2 + uv2] = sum;
                }
        }
        return gram;
    }

    /// <summary>The circular maps as valid ones: padded[k, i, j] = z[k, (i−s+1) mod H, (j−s+1) mod W].</summary>
    public static Tensor3 WrapPad(Tensor3 z, int s)
    {
        var padded = new Tensor3(z.Planes, z.Rows + s - 1, z.Cols + s - 1);
        for (int k = 0; k < z.Planes; k++)
            for (int i = 0; i < padded.Rows; i++)
                for (int j = 0; j < padded.Cols; j++)
                    padded[k, i, j] = z[k, Mod(i - s + 1, z.Rows), Mod(j - s + 1, z.Cols)];
        return padded;
    }

    /// <summary>
    /// The circular adjoint: synthesis is ŷ[i,j] = Σ f[u,v] z[(i−u) mod H, (j−v) mod W], so
    /// zg[k,p,q] = Σ_c g Σ_{u,v} f[k,c,u,v] r[c, (p+u) mod H, (q+v) mod W].
    /// </summary>
    public static Tensor3 CircularAdjoint(Tensor3 r, FilterBank f, Connectivity g)
    {
        int s = f.Size, h = r.Rows, w = r.Cols;
        var zg = new Tensor3(f.Maps, h, w);
        for (int k = 0; k < f.Maps; k++)
            for (int p = 0; p < h; p++)
                for (int q = 0; q < w; q++)
                {
                    double sum = 0;
                    for (int c = 0; c < f.Inputs; c++)
                    {
                        if (!g[k, c]) continue;
                        for (int u = 0; u < s; u++)
                            for (int v = 0; v < s; v++)
                                sum += (double)f[k, c, u, v] * r[c, Mod(p + u, h), Mod(q + v, w)];
                    }
                    zg[k, p, q] = (float)sum;
                }
        return zg;
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
