using System.Buffers;

namespace Distributed.Compute.Operators;

/// <summary>
/// The exact s²×s² Gram blocks of <see cref="FilterNormalEquations"/> from the nonzeros of valid-size maps
/// [K, h+s−1, w+s−1] (circular maps arrive wrap-padded to that size, as for <see cref="GramKernels"/>).
/// <para>
/// Entry <c>A_{k,k′}[(u,v),(u′,v′)] = Σ_{x ∈ W_{uv}} z_k[x] · z_{k′}[x + (u−u′, v−v′)]</c>, W_{uv} the image window
/// seen by tap (u, v). A coefficient at least s−1 from every edge of the maps lies in every window, so its products
/// with its neighbours depend only on the lag: they are summed into a lag stencil per pair of maps (K²(2s−1)² values,
/// the "ztz" of alphacsc) and spread over the s⁴ entries of each block once at the end. Coefficients in the border
/// band add their products to the entries of the windows that do contain them. The cost is the nonzero pairs within
/// a lag of s−1 (about nnz · (2s−1)² · K · density) plus K²/2 · s⁴ for the spread, against (2s−1)² · (h+s)(w+s) a
/// pair for the dense summed-area kernels: at 2 % nonzero, 64 maps of 8×8 and 128×128 images, about 30 times less.
/// Products are formed and the stencil summed in double; border terms are added in float.
/// </para>
/// </summary>
internal static class SparseGramKernels
{
    /// <param name="pairIndex">[K·K]: the block of pair (k, k′), k ≤ k′, in <paramref name="gram"/>, or −1 when the maps share no input.</param>
    /// <param name="degreeOfParallelism">
    /// Threads for the pair products. Map k's products land only in its own stencil rows and in the blocks (k, k′ ≥ k),
    /// so the maps are split over threads with no shared writes and every sum in the serial order: the same bits at any
    /// thread count. Below <see cref="SparseKernels.ParallelWork"/> estimated products it runs on the caller's thread.
    /// </param>
    public static void AccumulateGram(SparseMaps z, int h, int w, int s, int[] pairIndex, float[] gram, int degreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(pairIndex);
        ArgumentNullException.ThrowIfNull(gram);
        int maps = z.Planes, rows = z.Rows, cols = z.Cols;
        if (rows != h + s - 1 || cols != w + s - 1)
            throw new ArgumentException($"maps [{maps}, {rows}, {cols}] do not frame a {h}×{w} image for {s}×{s} filters.", nameof(z));
        if (pairIndex.Length != maps * maps) throw new ArgumentException($"pairIndex has {pairIndex.Length} entries; {maps} maps need {maps * maps}.", nameof(pairIndex));
        if (z.Count == 0 || h == 0 || w == 0) return;
        int d = 2 * s - 1, s2 = s * s, block = s2 * s2, m = s - 1;

        // The nonzeros by position, maps ascending at each: a coefficient's neighbours at a lag are one short run.
        int positions = rows * cols;
        int[] start = ArrayPool<int>.Shared.Rent(positions + 1);
        int[] entryMap = ArrayPool<int>.Shared.Rent(z.Count);
        float[] entryValue = ArrayPool<float>.Shared.Rent(z.Count);
        double[] stencil = ArrayPool<double>.Shared.Rent(maps * d * d * maps);   // [k, du, dv, k′]
        try
        {
            Array.Clear(start, 0, positions + 1);
            ReadOnlySpan<int> rowStart = z.RowStart, columns = z.NonzeroColumns;
            ReadOnlySpan<float> values = z.NonzeroValues;
            for (int k = 0; k < maps; k++)
                for (int r = 0; r < rows; r++)
                    for (int n = rowStart[k * rows + r]; n < rowStart[k * rows + r + 1]; n++) start[r * cols + columns[n] + 1]++;
            for (int p = 0; p < positions; p++) start[p + 1] += start[p];
            int[] cursor = ArrayPool<int>.Shared.Rent(positions);
            Array.Copy(start, cursor, positions);
            for (int k = 0; k < maps; k++)
                for (int r = 0; r < rows; r++)
                    for (int n = rowStart[k * rows + r]; n < rowStart[k * rows + r + 1]; n++)
                    {
                        int at = cursor[r * cols + columns[n]]++;
                        entryMap[at] = k;
                        entryValue[at] = values[n];
                    }
            ArrayPool<int>.Shared.Return(cursor);
            Array.Clear(stencil, 0, maps * d * d * maps);

            // Each nonzero meets about (2s−1)² · K · density others.
            double products = (double)z.Count * d * d * z.Count / ((double)maps * rows * cols) * maps;
            if (degreeOfParallelism > 1 && products >= SparseKernels.ParallelWork)
                Parallel.For(0, maps, new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism }, AccumulateMap);
            else
                for (int k = 0; k < maps; k++) AccumulateMap(k);

            SpreadStencil(stencil, maps, s, pairIndex, gram);

            void AccumulateMap(int k)
            {
                ReadOnlySpan<int> rowStart = z.RowStart, columns = z.NonzeroColumns;
                ReadOnlySpan<float> values = z.NonzeroValues;
                for (int r = 0; r < rows; r++)
                {
                    // Taps u whose window holds row r: s−1−u ≤ r < s−1−u+h.
                    int uMin = Math.Max(0, m - r), uMax = Math.Min(m, h + m - 1 - r);
                    if (uMin > uMax) continue;
                    bool interiorRow = r >= m && r <= h - 1;
                    for (int n = rowStart[k * rows + r]; n < rowStart[k * rows + r + 1]; n++)
                    {
                        int c = columns[n];
                        int vMin = Math.Max(0, m - c), vMax = Math.Min(m, w + m - 1 - c);
                        if (vMin > vMax) continue;
                        bool interior = interiorRow && c >= m && c <= w - 1;
                        double a = values[n];
                        for (int du = -m; du <= m; du++)
                        {
                            int rr = r + du;
                            if ((uint)rr >= (uint)rows) continue;
                            for (int dv = -m; dv <= m; dv++)
                            {
                                int cc = c + dv;
                                if ((uint)cc >= (uint)cols) continue;
                                int pos = rr * cols + cc;
                                for (int e = start[pos]; e < start[pos + 1]; e++)
                                {
                                    int k2 = entryMap[e];
                                    if (k2 < k) continue;   // pair (k2, k) is counted from map k2's side
                                    double ab = a * entryValue[e];
                                    if (interior)
                                    {
                                        stencil[((k * d + du + m) * d + dv + m) * maps + k2] += ab;
                                        continue;
                                    }
                                    int pair = pairIndex[k * maps + k2];
                                    if (pair < 0) continue;
                                    Span<float> dst = gram.AsSpan(pair * block, block);
                                    float term = (float)ab;
                                    int u0 = Math.Max(uMin, du), u1 = Math.Min(uMax, m + du);
                                    int v0 = Math.Max(vMin, dv), v1 = Math.Min(vMax, m + dv);
                                    for (int u = u0; u <= u1; u++)
                                        for (int v = v0; v <= v1; v++) dst[(u * s + v) * s2 + (u - du) * s + (v - dv)] += term;
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(start);
            ArrayPool<int>.Shared.Return(entryMap);
            ArrayPool<float>.Shared.Return(entryValue);
            ArrayPool<double>.Shared.Return(stencil);
        }
    }

    /// <summary>Values of a lag stencil [K, 2s−1, 2s−1, K] (entries k ≤ k′ used).</summary>
    public static int StencilLength(int maps, int s) => maps * (2 * s - 1) * (2 * s - 1) * maps;

    /// <summary>
    /// Adds circular maps' lag stencil to <paramref name="stencil"/> ([K, 2s−1, 2s−1, K], k ≤ k′, in double):
    /// <c>Σ_x z_k[x] · z_{k′}[(x + (du, dv)) mod (h, w)]</c> over the torus, from the nonzeros of the maps [K, h, w]
    /// themselves (not wrap-padded). On the torus every coefficient lies in every tap's window, so this stencil is the
    /// whole of A (<see cref="SpreadStencil"/>): no border band, and the stencils of many images add before one
    /// spread. Cost: the nonzero pairs within a lag of s−1, about nnz · (2s−1)² · K · density. Needs h, w ≥ 2s−1 (no
    /// lag wraps onto another), which circular layers require anyway.
    /// </summary>
    public static void AccumulateTorusStencil(SparseMaps z, int s, double[] stencil)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(stencil);
        int maps = z.Planes, h = z.Rows, w = z.Cols, d = 2 * s - 1, m = s - 1;
        if (h < d || w < d) throw new ArgumentException($"circular maps {h}×{w} are smaller than the {d}×{d} lags of {s}×{s} filters.", nameof(z));
        if (stencil.Length < StencilLength(maps, s)) throw new ArgumentException($"the stencil has {stencil.Length} values; {maps} maps of {s}×{s} need {StencilLength(maps, s)}.", nameof(stencil));
        if (z.Count == 0) return;
        int positions = h * w;
        int[] start = ArrayPool<int>.Shared.Rent(positions + 1);
        int[] entryMap = ArrayPool<int>.Shared.Rent(z.Count);
        float[] entryValue = ArrayPool<float>.Shared.Rent(z.Count);
        int[] cursor = ArrayPool<int>.Shared.Rent(positions);
        try
        {
            // The nonzeros by position, maps ascending at each (as in AccumulateGram).
            Array.Clear(start, 0, positions + 1);
            ReadOnlySpan<int> rowStart = z.RowStart, columns = z.NonzeroColumns;
            ReadOnlySpan<float> values = z.NonzeroValues;
            for (int k = 0; k < maps; k++)
                for (int r = 0; r < h; r++)
                    for (int n = rowStart[k * h + r]; n < rowStart[k * h + r + 1]; n++) start[r * w + columns[n] + 1]++;
            for (int p = 0; p < positions; p++) start[p + 1] += start[p];
            Array.Copy(start, cursor, positions);
            for (int k = 0; k < maps; k++)
                for (int r = 0; r < h; r++)
                    for (int n = rowStart[k * h + r]; n < rowStart[k * h + r + 1]; n++)
                    {
                        int at = cursor[r * w + columns[n]]++;
                        entryMap[at] = k;
                        entryValue[at] = values[n];
                    }

            for (int k = 0; k < maps; k++)
                for (int r = 0; r < h; r++)
                    for (int n = rowStart[k * h + r]; n < rowStart[k * h + r + 1]; n++)
                    {
                        int c = columns[n];
                        double a = values[n];
                        for (int du = -m; du <= m; du++)
                        {
                            int rr = r + du;
                            if (rr < 0) rr += h;
                            else if (rr >= h) rr -= h;
                            int lagRow = (k * d + du + m) * d + m;
                            for (int dv = -m; dv <= m; dv++)
                            {
                                int cc = c + dv;
                                if (cc < 0) cc += w;
                                else if (cc >= w) cc -= w;
                                int pos = rr * w + cc;
                                int lag = (lagRow + dv) * maps;
                                for (int e = start[pos]; e < start[pos + 1]; e++)
                                {
                                    int k2 = entryMap[e];
                                    if (k2 >= k) stencil[lag + k2] += a * entryValue[e];   // pair (k2, k) is counted from map k2's side
                                }
                            }
                        }
                    }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(start);
            ArrayPool<int>.Shared.Return(entryMap);
            ArrayPool<float>.Shared.Return(entryValue);
            ArrayPool<int>.Shared.Return(cursor);
        }
    }

    /// <summary>
    /// Adds each lag's sum of <paramref name="stencil"/> to the entries (u, v), (u − du, v − dv) of its pair's block
    /// (K²/2 · s⁴ additions, whatever the number of images the stencil holds).
    /// </summary>
    public static void SpreadStencil(double[] stencil, int maps, int s, int[] pairIndex, float[] gram)
    {
        ArgumentNullException.ThrowIfNull(stencil);
        ArgumentNullException.ThrowIfNull(pairIndex);
        ArgumentNullException.ThrowIfNull(gram);
        int d = 2 * s - 1, s2 = s * s, block = s2 * s2, m = s - 1;
        for (int k = 0; k < maps; k++)
            for (int k2 = k; k2 < maps; k2++)
            {
                int pair = pairIndex[k * maps + k2];
                if (pair < 0) continue;
                Span<float> dst = gram.AsSpan(pair * block, block);
                for (int du = -m; du <= m; du++)
                    for (int dv = -m; dv <= m; dv++)
                    {
                        double sum = stencil[((k * d + du + m) * d + dv + m) * maps + k2];
                        if (sum == 0) continue;
                        float term = (float)sum;
                        int u0 = Math.Max(0, du), u1 = Math.Min(m, m + du), v0 = Math.Max(0, dv), v1 = Math.Min(m, m + dv);
                        for (int u = u0; u <= u1; u++)
                            for (int v = v0; v <= v1; v++) dst[(u * s + v) * s2 + (u - du) * s + (v - dv)] += term;
                    }
            }
    }
}
