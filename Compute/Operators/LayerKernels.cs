using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The valid-boundary kernels behind <see cref="LayerOperator"/>. Legend as there; here z is always the valid-size
/// map [K, H+s−1, W+s−1]. Shapes are checked by the caller.
/// </summary>
internal static class LayerKernels
{
    /// <summary>y[c,i,j] = Σ_k g[k,c] Σ_{u,v} f[k,c,u,v] z[k, i+s−1−u, j+s−1−v].</summary>
    public static void Synthesize(Tensor3 z, FilterBank f, Connectivity g, Tensor3 y)
    {
        int s = f.Size, h = y.Rows, w = y.Cols, zw = z.Cols;
        y.Clear();
        for (int c = 0; c < y.Planes; c++)
        {
            Span<float> yc = y.Plane(c);
            for (int k = 0; k < z.Planes; k++)
            {
                if (!g[k, c]) continue;
                ReadOnlySpan<float> zk = z.ReadPlane(k);
                ReadOnlySpan<float> fkc = f.ReadPlane(k, c);
                for (int i = 0; i < h; i++)
                    for (int u = 0; u < s; u++)
                    {
                        ReadOnlySpan<float> zrow = zk.Slice((i + s - 1 - u) * zw, zw);
                        Span<float> yrow = yc.Slice(i * w, w);
                        for (int v = 0; v < s; v++)
                        {
                            float fv = fkc[u * s + v];
                            int off = s - 1 - v;
                            for (int j = 0; j < w; j++) yrow[j] += fv * zrow[j + off];
                        }
                    }
            }
        }
    }

    /// <summary>zg[k,p,q] = Σ_c g[k,c] Σ_{u,v} f[k,c,u,v] r[c, p−s+1+u, q−s+1+v] (zero outside r).</summary>
    public static void Adjoint(Tensor3 r, FilterBank f, Connectivity g, Tensor3 zg)
    {
        int s = f.Size, h = r.Rows, w = r.Cols, zw = zg.Cols;
        zg.Clear();
        for (int k = 0; k < zg.Planes; k++)
        {
            Span<float> zk = zg.Plane(k);
            for (int c = 0; c < r.Planes; c++)
            {
                if (!g[k, c]) continue;
                ReadOnlySpan<float> rc = r.ReadPlane(c);
                ReadOnlySpan<float> fkc = f.ReadPlane(k, c);
                // Scatter form of the same sum: r[c,i,j] contributes f[u,v] r[i,j] to zg[i+s−1−u, j+s−1−v].
                for (int i = 0; i < h; i++)
                    for (int u = 0; u < s; u++)
                    {
                        Span<float> zrow = zk.Slice((i + s - 1 - u) * zw, zw);
                        ReadOnlySpan<float> rrow = rc.Slice(i * w, w);
                        for (int v = 0; v < s; v++)
                        {
                            float fv = fkc[u * s + v];
                            int off = s - 1 - v;
                            for (int j = 0; j < w; j++) zrow[j + off] += fv * rrow[j];
                        }
                    }
            }
        }
    }

    /// <summary>fg[k,c,u,v] = g[k,c] Σ_{i,j} r[c,i,j] z[k, i+s−1−u, j+s−1−v].</summary>
    public static void FilterGradient(Tensor3 z, Tensor3 r, Connectivity g, FilterBank fg)
    {
        int s = fg.Size, h = r.Rows, w = r.Cols, zw = z.Cols;
        Array.Clear(fg.Data);
        for (int k = 0; k < fg.Maps; k++)
        {
            ReadOnlySpan<float> zk = z.ReadPlane(k);
            for (int c = 0; c < fg.Inputs; c++)
            {
                if (!g[k, c]) continue;
                ReadOnlySpan<float> rc = r.ReadPlane(c);
                Span<float> dst = fg.Plane(k, c);
                for (int u = 0; u < s; u++)
                    for (int v = 0; v < s; v++)
                    {
                        double sum = 0;
                        for (int i = 0; i < h; i++)
                        {
                            ReadOnlySpan<float> zrow = zk.Slice((i + s - 1 - u) * zw + s - 1 - v, w);
                            ReadOnlySpan<float> rrow = rc.Slice(i * w, w);
                            for (int j = 0; j < w; j++) sum += (double)rrow[j] * zrow[j];
                        }
                        dst[u * s + v] = (float)sum;
                    }
            }
        }
    }
}
