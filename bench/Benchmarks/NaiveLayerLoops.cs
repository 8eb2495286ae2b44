using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Benchmarks;

/// <summary>
/// The baseline: the scalar scatter loops the layer kernels began as (a copy, so the benchmark depends on no test
/// project). z is the valid-size map [K, H+s−1, W+s−1].
/// </summary>
internal static class NaiveLayerLoops
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
}
