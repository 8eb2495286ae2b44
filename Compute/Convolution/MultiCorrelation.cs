using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Distributed.Compute.Convolution;

/// <summary>
/// The register-blocked core behind every dense convolution here: one output plane of a multi-input valid
/// correlation. Legend: x input planes [inputs, ·, xCols]; w one s×s weight plane per input, addressed through strides
/// so a flipped (convolution) or transposed filter needs no copy; out one plane [·, outCols].
/// <para>
/// A 3-row × 4-vector block of outputs lives in registers while one input's taps are applied to it: 12 accumulators,
/// 3 broadcasts and one input vector at a time fill AVX2's 16 registers, with 4 loads and 3 broadcasts per 12 FMAs.
/// The loop runs over input rows t of the block's window rather than over taps u: input row i+t feeds output row i+a
/// through tap u = t − a, so each loaded row segment serves up to three output rows. Twelve independent chains per
/// iteration keep both FMA pipes busy through the 4-cycle FMA latency (eight would leave no slack at all).
/// </para>
/// <para>
/// Inputs are the next loop out and column blocks the one inside it, so each input's window rows stream through L1
/// along a tile of columns rather than the block hopping across all inputs' planes; the block's partial sums go to
/// memory and back once per input (24 accesses per 12·s² FMAs), and the input rows the next row block will need are
/// prefetched while this one computes. Rows beyond a multiple of three run one at a time; a ragged right edge is one
/// more block shifted back to end at the edge, keeping the lanes the last full block owns.
/// </para>
/// Callers validate shapes; nothing here checks bounds. The hot methods skip tiered compilation
/// (AggressiveOptimization): a training step calls them a handful of times, so they must be fast from the first call.
/// </summary>
internal static class MultiCorrelation
{
    private const int BlockRows = 3;

    /// <summary>
    /// Output columns per tile: one input's window rows across a tile (10 rows × 135 floats for s = 8) stay in L1 while
    /// its column blocks sweep them, and a row block's window over 64 inputs (64 × 5.4 KB) fits a 512 KB L2, so the
    /// next row block finds all but its new rows there. A multiple of every block width (16, 32, 64).
    /// </summary>
    private const int TileCols = 128;

    /// <summary>
    /// Effectively computes, for i in [rowStart, rowEnd) and j in [0, outCols):
    /// <c>out[i·outStride + j] = Σ_{n &lt; inputs, active[n·activeStride]} Σ_{u,v &lt; s} w[n·wInput + u·wRow + v·wCol] · x[n·xPlane + (i+u)·xCols + j + v]</c>,
    /// summed per output in the order n, u, v whatever the path or row band.
    /// Requires outCols + s − 1 ≤ xCols and every addressed x, w and active element to exist.
    /// </summary>
    public static void Rows(
        SimdPath path,
        ref float x, int inputs, nint xPlane, int xCols,
        ref float w, nint wInput, nint wRow, nint wCol,
        ref bool active, nint activeStride, int s,
        ref float output, int outCols, int outStride, int rowStart, int rowEnd)
    {
        switch (SimdPaths.Resolve(path, outCols, vectorsPerBlock: 4))
        {
            case SimdPath.Vector512:
                RowsVector<Vector512<float>, Ops512>(ref x, inputs, xPlane, xCols, ref w, wInput, wRow, wCol, ref active, activeStride, s, ref output, outCols, outStride, rowStart, rowEnd);
                break;
            case SimdPath.Vector256:
                RowsVector<Vector256<float>, Ops256>(ref x, inputs, xPlane, xCols, ref w, wInput, wRow, wCol, ref active, activeStride, s, ref output, outCols, outStride, rowStart, rowEnd);
                break;
            case SimdPath.Vector128:
                RowsVector<Vector128<float>, Ops128>(ref x, inputs, xPlane, xCols, ref w, wInput, wRow, wCol, ref active, activeStride, s, ref output, outCols, outStride, rowStart, rowEnd);
                break;
            default:
                RowsScalar(ref x, inputs, xPlane, xCols, ref w, wInput, wRow, wCol, ref active, activeStride, s, ref output, outCols, outStride, rowStart, rowEnd);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsScalar(
        ref float x, int inputs, nint xPlane, int xCols,
        ref float w, nint wInput, nint wRow, nint wCol,
        ref bool active, nint activeStride, int s,
        ref float output, int outCols, int outStride, int rowStart, int rowEnd)
    {
        for (int i = rowStart; i < rowEnd; i++)
            for (int j = 0; j < outCols; j++)
            {
                float sum = 0;
                for (int n = 0; n < inputs; n++)
                {
                    if (!Unsafe.Add(ref active, n * activeStride)) continue;
                    ref float xn = ref Unsafe.Add(ref x, n * xPlane + (nint)i * xCols + j);
                    ref float wn = ref Unsafe.Add(ref w, n * wInput);
                    for (int u = 0; u < s; u++)
                        for (int v = 0; v < s; v++)
                            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref wn, u * wRow + v * wCol), Unsafe.Add(ref xn, (nint)u * xCols + v), sum);
                }
                Unsafe.Add(ref output, (nint)i * outStride + j) = sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsVector<TV, TOps>(
        ref float x, int inputs, nint xPlane, int xCols,
        ref float w, nint wInput, nint wRow, nint wCol,
        ref bool active, nint activeStride, int s,
        ref float output, int outCols, int outStride, int rowStart, int rowEnd)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int blockCols = 4 * TOps.Count;
        int mainCols = outCols / blockCols * blockCols;
        // A ragged right edge is one more block shifted back to end at outCols; it keeps the lanes the last full
        // block already owns (Merge), since those hold partial sums of other inputs by the time it runs.
        int tail = mainCols < outCols ? outCols - blockCols : -1;
        int blockRowsEnd = rowEnd - (rowEnd - rowStart) % BlockRows;
        for (int tile = 0; tile < mainCols; tile += TileCols)
        {
            int tileEnd = Math.Min(tile + TileCols, mainCols);
            int tileTail = tileEnd == mainCols ? tail : -1;
            for (int i = rowStart; i < blockRowsEnd; i += BlockRows)
            {
                bool first = true;
                bool prefetch = i + BlockRows < blockRowsEnd;
                int span = (tileTail >= 0 ? outCols : tileEnd) - tile;
                for (int input = 0; input < inputs; input++)
                {
                    if (!Unsafe.Add(ref active, input * activeStride)) continue;
                    ref float xi = ref Unsafe.Add(ref x, input * xPlane);
                    ref float wi = ref Unsafe.Add(ref w, input * wInput);
                    if (prefetch)
                    {
                        // The next row block needs BlockRows input rows this one has not touched; asking for them
                        // now overlaps the trip to memory with this block's arithmetic instead of stalling on it.
                        ref float next = ref Unsafe.Add(ref xi, (nint)(i + s + BlockRows - 1) * xCols + tile);
                        for (int r = 0; r < BlockRows; r++)
                            CacheHints.Prefetch(ref Unsafe.Add(ref next, (nint)r * xCols), span + s - 1);
                    }
                    for (int j = tile; j < tileEnd; j += blockCols)
                        Block3<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, j, first, 0);
                    if (tileTail >= 0)
                        Block3<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, tileTail, first, mainCols - tileTail);
                    first = false;
                }
                if (first) ClearRows(ref output, outStride, i, BlockRows, tile, tileTail >= 0 ? outCols : tileEnd);
            }
            for (int i = blockRowsEnd; i < rowEnd; i++)
            {
                bool first = true;
                for (int input = 0; input < inputs; input++)
                {
                    if (!Unsafe.Add(ref active, input * activeStride)) continue;
                    ref float xi = ref Unsafe.Add(ref x, input * xPlane);
                    ref float wi = ref Unsafe.Add(ref w, input * wInput);
                    for (int j = tile; j < tileEnd; j += blockCols)
                        Block1<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, j, first, 0);
                    if (tileTail >= 0)
                        Block1<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, tileTail, first, mainCols - tileTail);
                    first = false;
                }
                if (first) ClearRows(ref output, outStride, i, 1, tile, tileTail >= 0 ? outCols : tileEnd);
            }
        }
    }

    private static void ClearRows(ref float output, int outStride, int row, int rows, int colStart, int colEnd)
    {
        for (int r = row; r < row + rows; r++)
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref output, (nint)r * outStride + colStart), colEnd - colStart).Clear();
    }

    /// <summary>
    /// Adds one input's contribution to output rows i..i+2, columns j..j+4N−1 (or sets it, for the first input).
    /// Lanes below <paramref name="keepBelow"/> (counted from j) are left as they are in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block3<TV, TOps>(
        ref float xi, int xCols, ref float wi, nint wRow, nint wCol, int s,
        ref float output, int outStride, int i, int j, bool first, int keepBelow)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        ref float o0 = ref Unsafe.Add(ref output, (nint)i * outStride + j);
        ref float o1 = ref Unsafe.Add(ref o0, outStride);
        ref float o2 = ref Unsafe.Add(ref o1, outStride);
        TV a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23;
        if (first)
        {
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = TOps.Zero;
        }
        else
        {
            a00 = TOps.Load(ref o0);
            a01 = TOps.Load(ref Unsafe.Add(ref o0, n));
            a02 = TOps.Load(ref Unsafe.Add(ref o0, 2 * n));
            a03 = TOps.Load(ref Unsafe.Add(ref o0, 3 * n));
            a10 = TOps.Load(ref o1);
            a11 = TOps.Load(ref Unsafe.Add(ref o1, n));
            a12 = TOps.Load(ref Unsafe.Add(ref o1, 2 * n));
            a13 = TOps.Load(ref Unsafe.Add(ref o1, 3 * n));
            a20 = TOps.Load(ref o2);
            a21 = TOps.Load(ref Unsafe.Add(ref o2, n));
            a22 = TOps.Load(ref Unsafe.Add(ref o2, 2 * n));
            a23 = TOps.Load(ref Unsafe.Add(ref o2, 3 * n));
        }
        ref float x0 = ref Unsafe.Add(ref xi, (nint)i * xCols + j);
        // Input row i+t feeds output row i+a through tap u = t − a; each output row takes its taps in ascending u,
        // whichever block or band computes it, so results do not depend on how rows were split. With s ≥ 3 the rows
        // t = 1 and t = s feed two output rows each (eight independent chains) and run branch-free; only t = 0 and
        // t = s+1 feed one row (four chains, bound by FMA latency).
        for (int t = 0; t < s + BlockRows - 1; t++)
        {
            ref float xr = ref Unsafe.Add(ref x0, (nint)t * xCols);
            if (s >= 3 && t == 1)
            {
                TwoRows<TV, TOps>(ref xr, ref Unsafe.Add(ref wi, wRow), ref wi, wCol, s,
                    ref a00, ref a01, ref a02, ref a03, ref a10, ref a11, ref a12, ref a13);
            }
            else if (s >= 3 && t == s)
            {
                ref float wLast = ref Unsafe.Add(ref wi, (s - 1) * wRow);
                TwoRows<TV, TOps>(ref xr, ref wLast, ref Unsafe.Add(ref wLast, -wRow), wCol, s,
                    ref a10, ref a11, ref a12, ref a13, ref a20, ref a21, ref a22, ref a23);
            }
            else if (t >= BlockRows - 1 && t < s)
            {
                ref float w0 = ref Unsafe.Add(ref wi, t * wRow);
                ref float w1 = ref Unsafe.Add(ref w0, -wRow);
                ref float w2 = ref Unsafe.Add(ref w1, -wRow);
                for (int v = 0; v < s; v++)
                {
                    // Three broadcasts and one live input vector at a time: 12 accumulators + 4 fit 16 registers.
                    ref float xv = ref Unsafe.Add(ref xr, v);
                    nint o = v * wCol;
                    TV f0 = TOps.Broadcast(Unsafe.Add(ref w0, o));
                    TV f1 = TOps.Broadcast(Unsafe.Add(ref w1, o));
                    TV f2 = TOps.Broadcast(Unsafe.Add(ref w2, o));
                    TV x = TOps.Load(ref xv);
                    a00 = TOps.MultiplyAdd(f0, x, a00);
                    a10 = TOps.MultiplyAdd(f1, x, a10);
                    a20 = TOps.MultiplyAdd(f2, x, a20);
                    x = TOps.Load(ref Unsafe.Add(ref xv, n));
                    a01 = TOps.MultiplyAdd(f0, x, a01);
                    a11 = TOps.MultiplyAdd(f1, x, a11);
                    a21 = TOps.MultiplyAdd(f2, x, a21);
                    x = TOps.Load(ref Unsafe.Add(ref xv, 2 * n));
                    a02 = TOps.MultiplyAdd(f0, x, a02);
                    a12 = TOps.MultiplyAdd(f1, x, a12);
                    a22 = TOps.MultiplyAdd(f2, x, a22);
                    x = TOps.Load(ref Unsafe.Add(ref xv, 3 * n));
                    a03 = TOps.MultiplyAdd(f0, x, a03);
                    a13 = TOps.MultiplyAdd(f1, x, a13);
                    a23 = TOps.MultiplyAdd(f2, x, a23);
                }
            }
            else
            {
                // t = 0, t = s+1, and every row of small filters: output row a sees input row t through u = t − a if valid.
                bool r0 = t < s, r1 = (uint)(t - 1) < (uint)s, r2 = (uint)(t - 2) < (uint)s;
                for (int v = 0; v < s; v++)
                {
                    ref float xv = ref Unsafe.Add(ref xr, v);
                    nint o = v * wCol;
                    if (r0)
                    {
                        TV f = TOps.Broadcast(Unsafe.Add(ref wi, t * wRow + o));
                        a00 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a00);
                        a01 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a01);
                        a02 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a02);
                        a03 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a03);
                    }
                    if (r1)
                    {
                        TV f = TOps.Broadcast(Unsafe.Add(ref wi, (t - 1) * wRow + o));
                        a10 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a10);
                        a11 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a11);
                        a12 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a12);
                        a13 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a13);
                    }
                    if (r2)
                    {
                        TV f = TOps.Broadcast(Unsafe.Add(ref wi, (t - 2) * wRow + o));
                        a20 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a20);
                        a21 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a21);
                        a22 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a22);
                        a23 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a23);
                    }
                }
            }
        }
        Store<TV, TOps>(a00, a01, a02, a03, ref o0, keepBelow);
        Store<TV, TOps>(a10, a11, a12, a13, ref o1, keepBelow);
        Store<TV, TOps>(a20, a21, a22, a23, ref o2, keepBelow);
    }

    /// <summary>
    /// One input row x feeding two output rows: <c>p_q += wp[v] · x[v + qN]</c>, <c>r_q += wr[v] · x[v + qN]</c> for v &lt; s.
    /// Inlined, so the accumulators stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoRows<TV, TOps>(ref float x, ref float wp, ref float wr, nint wCol, int s,
        ref TV p0, ref TV p1, ref TV p2, ref TV p3, ref TV r0, ref TV r1, ref TV r2, ref TV r3)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        TV b0 = p0, b1 = p1, b2 = p2, b3 = p3, c0 = r0, c1 = r1, c2 = r2, c3 = r3;
        for (int v = 0; v < s; v++)
        {
            ref float xv = ref Unsafe.Add(ref x, v);
            TV fp = TOps.Broadcast(Unsafe.Add(ref wp, v * wCol));
            TV fr = TOps.Broadcast(Unsafe.Add(ref wr, v * wCol));
            TV xq = TOps.Load(ref xv);
            b0 = TOps.MultiplyAdd(fp, xq, b0);
            c0 = TOps.MultiplyAdd(fr, xq, c0);
            xq = TOps.Load(ref Unsafe.Add(ref xv, n));
            b1 = TOps.MultiplyAdd(fp, xq, b1);
            c1 = TOps.MultiplyAdd(fr, xq, c1);
            xq = TOps.Load(ref Unsafe.Add(ref xv, 2 * n));
            b2 = TOps.MultiplyAdd(fp, xq, b2);
            c2 = TOps.MultiplyAdd(fr, xq, c2);
            xq = TOps.Load(ref Unsafe.Add(ref xv, 3 * n));
            b3 = TOps.MultiplyAdd(fp, xq, b3);
            c3 = TOps.MultiplyAdd(fr, xq, c3);
        }
        p0 = b0; p1 = b1; p2 = b2; p3 = b3;
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>One output row's share of <see cref="Block3{TV, TOps}"/>: the rows a band has beyond a multiple of three.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1<TV, TOps>(
        ref float xi, int xCols, ref float wi, nint wRow, nint wCol, int s,
        ref float output, int outStride, int i, int j, bool first, int keepBelow)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        ref float o = ref Unsafe.Add(ref output, (nint)i * outStride + j);
        TV a0 = first ? TOps.Zero : TOps.Load(ref o);
        TV a1 = first ? TOps.Zero : TOps.Load(ref Unsafe.Add(ref o, n));
        TV a2 = first ? TOps.Zero : TOps.Load(ref Unsafe.Add(ref o, 2 * n));
        TV a3 = first ? TOps.Zero : TOps.Load(ref Unsafe.Add(ref o, 3 * n));
        ref float xRow = ref Unsafe.Add(ref xi, (nint)i * xCols + j);
        for (int u = 0; u < s; u++)
        {
            ref float xr = ref Unsafe.Add(ref xRow, (nint)u * xCols);
            ref float wu = ref Unsafe.Add(ref wi, u * wRow);
            for (int v = 0; v < s; v++)
            {
                ref float xv = ref Unsafe.Add(ref xr, v);
                TV f = TOps.Broadcast(Unsafe.Add(ref wu, v * wCol));
                a0 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a0);
                a1 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a1);
                a2 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a2);
                a3 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a3);
            }
        }
        Store<TV, TOps>(a0, a1, a2, a3, ref o, keepBelow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TV, TOps>(TV a0, TV a1, TV a2, TV a3, ref float o, int keepBelow)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        ref float o1 = ref Unsafe.Add(ref o, n);
        ref float o2 = ref Unsafe.Add(ref o, 2 * n);
        ref float o3 = ref Unsafe.Add(ref o, 3 * n);
        if (keepBelow > 0)
        {
            a0 = TOps.Merge(TOps.Load(ref o), a0, keepBelow);
            a1 = TOps.Merge(TOps.Load(ref o1), a1, keepBelow - n);
            a2 = TOps.Merge(TOps.Load(ref o2), a2, keepBelow - 2 * n);
            a3 = TOps.Merge(TOps.Load(ref o3), a3, keepBelow - 3 * n);
        }
        TOps.Store(a0, ref o);
        TOps.Store(a1, ref o1);
        TOps.Store(a2, ref o2);
        TOps.Store(a3, ref o3);
    }
}
