namespace Distributed.Compute.Inference;

/// <summary>A rectangle of map positions [Row, Row + Rows) × [Col, Col + Cols) that one tile owns.</summary>
public readonly record struct TileRect(int Row, int Col, int Rows, int Cols)
{
    public override string ToString() => $"{Rows}×{Cols} at ({Row}, {Col})";
}

/// <summary>
/// How the maps of one large image are cut into tiles for coordinate descent (DiCoDiLe's spatial split). A move at one
/// position changes the correlation only within s−1 of it, so two regions further apart than that can move at once;
/// each tile moves one quarter of itself per phase (<see cref="CoordinateDescentTile"/>), and same-quarter regions of
/// different tiles are separated by the other half of a tile. Hence the smallest tile, 2(2s−1) per side: each half is
/// then wider than the stencil's reach, even after aligning the halves to segments.
/// </summary>
public static class TilePlan
{
    /// <summary>The largest tile side accepted: 65 536 map positions (a 4 Gi-position tile would not fit one array anyway).</summary>
    public const int MaximumTile = 65_536;

    /// <summary>2(2s − 1): the smallest tile side for filters of size s.</summary>
    public static int MinimumTile(int filterSize) => 2 * (2 * filterSize - 1);

    /// <summary>
    /// Tiles of side at least <paramref name="tile"/> over maps of <paramref name="rows"/> × <paramref name="cols"/>,
    /// row-major: along each axis ⌊length / tile⌋ tiles (one when the axis is shorter), the remainder spread one position
    /// at a time over the last tiles, so tiles differ by at most one position and the larger ones are at the far edge.
    /// </summary>
    public static IReadOnlyList<TileRect> Plan(int rows, int cols, int tile, int filterSize)
    {
        Check(tile, filterSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        return Grid(rows, cols, Math.Max(1, rows / tile), Math.Max(1, cols / tile));
    }

    /// <summary>
    /// The plan for one image solved with <paramref name="threads"/> threads: about four tiles per thread (so that
    /// threads stay busy while tiles differ in work; each tile adds only a halo of s−1 and a few border moves per
    /// phase), none smaller than <see cref="MinimumTile"/>; null when the maps are too small for two such tiles or there
    /// is one thread: then one solve runs untiled.
    /// </summary>
    public static IReadOnlyList<TileRect>? ForThreads(int rows, int cols, int filterSize, int threads)
    {
        int minimum = MinimumTile(filterSize);
        int rowLimit = rows / minimum, colLimit = cols / minimum;
        if (threads <= 1 || rowLimit < 1 || colLimit < 1 || rowLimit * colLimit < 2) return null;
        double side = Math.Sqrt((double)rows * cols / (4.0 * threads));
        int rowTiles = Math.Clamp((int)Math.Round(rows / side), 1, rowLimit), colTiles = Math.Clamp((int)Math.Round(cols / side), 1, colLimit);
        if (rowTiles * colTiles < 2)
        {
            if (rowLimit >= colLimit) rowTiles = 2;
            else colTiles = 2;
        }
        return Grid(rows, cols, rowTiles, colTiles);
    }

    private static List<TileRect> Grid(int rows, int cols, int rowTiles, int colTiles)
    {
        var rowCuts = Cuts(rows, rowTiles);
        var colCuts = Cuts(cols, colTiles);
        var tiles = new List<TileRect>(rowCuts.Count * colCuts.Count);
        foreach (var (r, h) in rowCuts)
            foreach (var (c, w) in colCuts)
                tiles.Add(new TileRect(r, c, h, w));
        return tiles;
    }

    private static List<(int Start, int Length)> Cuts(int length, int count)
    {
        int size = length / count, extra = length % count;
        var cuts = new List<(int, int)>(count);
        for (int t = 0, start = 0; t < count; t++)
        {
            int next = size + (t >= count - extra ? 1 : 0);
            cuts.Add((start, next));
            start += next;
        }
        return cuts;
    }

    /// <summary>Rejects a tile side outside [2(2s−1), <see cref="MaximumTile"/>] with a message naming both bounds.</summary>
    public static void Check(int tile, int filterSize)
    {
        int minimum = MinimumTile(filterSize);
        if (tile < minimum || tile > MaximumTile)
            throw new ArgumentOutOfRangeException(nameof(tile), tile, $"tile = {tile}; allowed {minimum}..{MaximumTile} (at least 2(2s−1) for filters of {filterSize}).");
    }
}
