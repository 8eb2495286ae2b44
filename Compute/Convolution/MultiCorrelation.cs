using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Distributed.Compute.Convolution;

/// <summary>
/// The register-blocked core behind every dense convolution here: one output plane of a multi-input valid
/// correlation. Legend: x input planes [inputs, ·, xCols]; w one s×s weight plane per input, addressed through strides
/// so a flipped (convolution) or transposed filter needs no copy; out one plane [·, outCols].
/// <para>
/// A 2-row × 4-vector block of outputs lives in registers while one input's taps are applied to it: 8 accumulators,
/// 4 loads and 2 broadcasts per 8 FMAs. The loop runs over input rows t of the block's window rather than over taps
/// u: input row i+t feeds output row i through tap u = t and row i+1 through u = t−1, so each loaded row segment serves
/// both output rows. Two rows (not four) keep the s+1 window rows few, because each accumulator takes one FMA per
/// iteration and the FMA latency (4–5 cycles) then bounds an iteration; eight independent chains per iteration are
/// what hides it.
/// <para>
/// Inputs are the next loop out and column blocks the one inside it, so each input's window rows stream through L1
/// along a tile of columns rather than the block hopping across all inputs' planes; the block's partial sums go to
/// memory and back once per input (16 accesses per 8·s² FMAs), and the input rows the next row block will need are
/// prefetched while this one computes. Rows beyond a multiple of two run one at a time; a ragged right edge is one
/// more block shifted back to end at the edge, keeping the lanes the last full block owns.
/// </para>
/// Callers validate shapes; nothing here checks bounds.
/// </summary>
internal static class MultiCorrelation
{
    private const int BlockRows = 2;

    /// <summary>
    /// Output columns per tile: one input's window rows across a tile (9 rows × 263 floats for s = 8) stay in L1 while
    /// its column blocks sweep them, and a whole row block's inputs (64 × 9 KB) mostly stay in L2 for the next row
    /// block. A multiple of every block width (16, 32, 64 columns); measured against 64, 128 and unbounded.
    /// </summary>
    private const int TileCols = 256;

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
                        // The next row block needs two input rows this one has not touched; asking for them now
                        // overlaps the trip to memory with this block's arithmetic instead of stalling on it.
                        ref float next = ref Unsafe.Add(ref xi, (nint)(i + s + 1) * xCols + tile);
                        CacheHints.Prefetch(ref next, span + s - 1);
                        CacheHints.Prefetch(ref Unsafe.Add(ref next, xCols), span + s - 1);
                    }
                    for (int j = tile; j < tileEnd; j += blockCols)
                        Block2<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, j, first, 0);
                    if (tileTail >= 0)
                        Block2<TV, TOps>(ref xi, xCols, ref wi, wRow, wCol, s, ref output, outStride, i, tileTail, first, mainCols - tileTail);
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
    /// Adds one input's contribution to output rows i, i+1, columns j..j+4N−1 (or sets it, for the first input).
    /// Lanes below <paramref name="keepBelow"/> (counted from j) are left as they are in memory.
    /// </summary>
    private static void Block2<TV, TOps>(
        ref float xi, int xCols, ref float wi, nint wRow, nint wCol, int s,
        ref float output, int outStride, int i, int j, bool first, int keepBelow)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int n = TOps.Count;
        ref float o0 = ref Unsafe.Add(ref output, (nint)i * outStride + j);
        ref float o1 = ref Unsafe.Add(ref o0, outStride);
        TV a00, a01, a02, a03, a10, a11, a12, a13;
        if (first)
        {
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = TOps.Zero;
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
        }
        ref float xr = ref Unsafe.Add(ref xi, (nint)i * xCols + j);
        // Input row i+t feeds output row i through tap u = t and row i+1 through u = t−1.
        for (int t = 0; t <= s; t++, xr = ref Unsafe.Add(ref xr, xCols))
        {
            if (t >= 1 && t < s)
            {
                ref float w0 = ref Unsafe.Add(ref wi, t * wRow);
                ref float w1 = ref Unsafe.Add(ref w0, -wRow);
                for (int v = 0; v < s; v++)
                {
                    ref float xv = ref Unsafe.Add(ref xr, v);
                    TV x0 = TOps.Load(ref xv);
                    TV x1 = TOps.Load(ref Unsafe.Add(ref xv, n));
                    TV x2 = TOps.Load(ref Unsafe.Add(ref xv, 2 * n));
                    TV x3 = TOps.Load(ref Unsafe.Add(ref xv, 3 * n));
                    nint o = v * wCol;
                    TV f = TOps.Broadcast(Unsafe.Add(ref w0, o));
                    a00 = TOps.MultiplyAdd(f, x0, a00);
                    a01 = TOps.MultiplyAdd(f, x1, a01);
                    a02 = TOps.MultiplyAdd(f, x2, a02);
                    a03 = TOps.MultiplyAdd(f, x3, a03);
                    f = TOps.Broadcast(Unsafe.Add(ref w1, o));
                    a10 = TOps.MultiplyAdd(f, x0, a10);
                    a11 = TOps.MultiplyAdd(f, x1, a11);
                    a12 = TOps.MultiplyAdd(f, x2, a12);
                    a13 = TOps.MultiplyAdd(f, x3, a13);
                }
            }
            else if (t == 0)
            {
                for (int v = 0; v < s; v++)
                {
                    ref float xv = ref Unsafe.Add(ref xr, v);
                    TV f = TOps.Broadcast(Unsafe.Add(ref wi, v * wCol));
                    a00 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a00);
                    a01 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a01);
                    a02 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a02);
                    a03 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a03);
                }
            }
            else
            {
                ref float w1 = ref Unsafe.Add(ref wi, (s - 1) * wRow);
                for (int v = 0; v < s; v++)
                {
                    ref float xv = ref Unsafe.Add(ref xr, v);
                    TV f = TOps.Broadcast(Unsafe.Add(ref w1, v * wCol));
                    a10 = TOps.MultiplyAdd(f, TOps.Load(ref xv), a10);
                    a11 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, n)), a11);
                    a12 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 2 * n)), a12);
                    a13 = TOps.MultiplyAdd(f, TOps.Load(ref Unsafe.Add(ref xv, 3 * n)), a13);
                }
            }
        }
        Store<TV, TOps>(a00, a01, a02, a03, ref o0, keepBelow);
        Store<TV, TOps>(a10, a11, a12, a13, ref o1, keepBelow);
    }

    /// <summary>One output row's share of <see cref="Block2{TV, TOps}"/>: the last row of an odd band.</summary>
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
