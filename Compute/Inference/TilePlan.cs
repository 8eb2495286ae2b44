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
    /// The tile side when none is given: 256 positions, or <see cref="MinimumTile"/> when larger. Tiles of 256 cost a
    /// halo of s−1 (about 5 % more area to refresh for s = 8) and give a 2048² image 64 work items, enough to keep 16
    /// threads busy while tiles differ in work; images under 512 on both sides stay whole.
    /// </summary>
    public static int DefaultTile(int filterSize) => Math.Max(256, MinimumTile(filterSize));

    /// <summary>
    /// The plan when no tile side is given: <see cref="DefaultTile"/>, or null when that makes one tile (the image is
    /// solved whole). It depends on the image and the filter size only, never on the threads, so an image's maps are
    /// the same bits on one thread or many, on the serial engine or a cluster.
    /// </summary>
    public static IReadOnlyList<TileRect>? Auto(int rows, int cols, int filterSize)
    {
        IReadOnlyList<TileRect> plan = Plan(rows, cols, DefaultTile(filterSize), filterSize);
        return plan.Count > 1 ? plan : null;
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
