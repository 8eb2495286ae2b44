using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>Kernels behind <see cref="FilterNormalEquations"/>. z is the valid-size map [K, H+s−1, W+s−1].</summary>
internal static class GramKernels
{
    /// <summary>gram[pair][(u,v),(u′,v′)] += Σ_{i&lt;h, j&lt;w} z_k[i+s−1−u, j+s−1−v] · z_{k′}[i+s−1−u′, j+s−1−v′].</summary>
    public static void AccumulateGram(Tensor3 z, int h, int w, int s, IReadOnlyList<(int K1, int K2)> pairs, float[] gram)
    {
        int s2 = s * s, zw = z.Cols, block = s2 * s2;
        for (int p = 0; p < pairs.Count; p++)
        {
            var (k1, k2) = pairs[p];
            ReadOnlySpan<float> a = z.ReadPlane(k1), b = z.ReadPlane(k2);
            Span<float> dst = gram.AsSpan(p * block, block);
            for (int uv = 0; uv < s2; uv++)
                for (int uv2 = 0; uv2 < s2; uv2++)
                {
                    int ai = s - 1 - uv / s, aj = s - 1 - uv % s, bi = s - 1 - uv2 / s, bj = s - 1 - uv2 % s;
                    double sum = 0;
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < w; j++)
                            sum += (double)a[(i + ai) * zw + j + aj] * b[(i + bi) * zw + j + bj];
                    dst[uv * s2 + uv2] += (float)sum;
                }
        }
    }

    /// <summary>b[k,c,u,v] += g[k,c] Σ_{i,j} y[c,i,j] z[k, i+s−1−u, j+s−1−v].</summary>
    public static void AccumulateRightHandSide(Tensor3 z, Tensor3 y, Connectivity g, FilterBank b)
    {
        var part = new FilterBank(b.Maps, b.Inputs, b.Size);
        LayerKernels.FilterGradient(z, y, g, part);
        System.Numerics.Tensors.TensorPrimitives.Add(b.Data, part.Data, b.Data);
    }
}
