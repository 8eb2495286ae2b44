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
    /// Tiles of side <paramref name="tile"/> over maps of <paramref name="rows"/> × <paramref name="cols"/>, row-major;
    /// along each axis the last tile also takes the remainder (between tile and 2·tile − 1), so no tile is smaller than
    /// the tile size, and an axis shorter than it is one tile.
    /// </summary>
    public static IReadOnlyList<TileRect> Plan(int rows, int cols, int tile, int filterSize)
    {
        Check(tile, filterSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        var rowCuts = Cuts(rows, tile);
        var colCuts = Cuts(cols, tile);
        var tiles = new List<TileRect>(rowCuts.Count * colCuts.Count);
        foreach (var (r, h) in rowCuts)
            foreach (var (c, w) in colCuts)
                tiles.Add(new TileRect(r, c, h, w));
        return tiles;
    }

    /// <summary>
    /// The tile side that gives about two tiles per thread (so the threads stay busy while tiles differ in work), or 0
    /// when the maps are too small for two tiles of at least <see cref="MinimumTile"/>: then one solve runs untiled.
    /// </summary>
    public static int ForThreads(int rows, int cols, int filterSize, int threads)
    {
        int minimum = MinimumTile(filterSize);
        if (threads <= 1 || Math.Max(rows, cols) < 2 * minimum || Math.Min(rows, cols) < minimum) return 0;
        int side = (int)Math.Ceiling(Math.Sqrt((double)rows * cols / (2.0 * threads)));
        side = Math.Clamp(side, minimum, Math.Max(rows, cols) / 2);
        return side;
    }

    /// <summary>Rejects a tile side outside [2(2s−1), <see cref="MaximumTile"/>] with a message naming both bounds.</summary>
    public static void Check(int tile, int filterSize)
    {
        int minimum = MinimumTile(filterSize);
        if (tile < minimum || tile > MaximumTile)
            throw new ArgumentOutOfRangeException(nameof(tile), tile, $"tile = {tile}; allowed {minimum}..{MaximumTile} (at least 2(2s−1) for filters of {filterSize}).");
    }

    private static List<(int Start, int Length)> Cuts(int length, int tile)
    {
        int count = Math.Max(1, length / tile);
        var cuts = new List<(int, int)>(count);
        for (int t = 0; t < count; t++) cuts.Add((t * tile, t == count - 1 ? length - t * tile : tile));
        return cuts;
    }
}
