namespace Distributed.Compute.Tests.Reference;

/// <summary>Scalar oracles for the single-plane and strided convolutions, summed in double.</summary>
internal static class NaiveConvolution
{
    /// <summary>d[i,j] = Σ k[u,v] x[i+u+offset, j+v+offset] (x zero outside), with the kernel flipped when asked.</summary>
    public static float[] Correlate(float[] x, int rows, int cols, float[] k, int s, bool flip, bool full)
    {
        int offset = full ? -(s - 1) : 0;
        int outRows = full ? rows + s - 1 : rows - s + 1, outCols = full ? cols + s - 1 : cols - s + 1;
        var d = new float[outRows * outCols];
        for (int i = 0; i < outRows; i++)
            for (int j = 0; j < outCols; j++)
            {
                double sum = 0;
                for (int u = 0; u < s; u++)
                    for (int v = 0; v < s; v++)
                    {
                        int r = i + u + offset, c = j + v + offset;
                        if (r < 0 || r >= rows || c < 0 || c >= cols) continue;
                        float kv = flip ? k[(s - 1 - u) * s + (s - 1 - v)] : k[u * s + v];
                        sum += (double)kv * x[r * cols + c];
                    }
                d[i * outCols + j] = (float)sum;
            }
        return d;
    }

    /// <summary>y[k,i,j] = Σ_{c,m,n} w[k,c,m,n] x[c, i·S+m−P, j·S+n−P].</summary>
    public static float[] Strided(int channels, int rows, int cols, int filters, int mr, int nc, int stride, int padding, float[] x, float[] w)
    {
        int oh = 1 + (rows + 2 * padding - mr) / stride, ow = 1 + (cols + 2 * padding - nc) / stride;
        var y = new float[filters * oh * ow];
        for (int k = 0; k < filters; k++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double sum = 0;
                    for (int c = 0; c < channels; c++)
                        for (int m = 0; m < mr; m++)
                            for (int n = 0; n < nc; n++)
                            {
                                int p = i * stride + m - padding, q = j * stride + n - padding;
                                if (p < 0 || p >= rows || q < 0 || q >= cols) continue;
                                sum += (double)w[((k * channels + c) * mr + m) * nc + n] * x[(c * rows + p) * cols + q];
                            }
                    y[(k * oh + i) * ow + j] = (float)sum;
                }
        return y;
    }
}
