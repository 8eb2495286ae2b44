using Distributed.Compute.Tensors;
using SkiaSharp;

namespace Distributed.Client.Output;

/// <summary>
/// A PNG grid of pixel-space projections: one row per feature map (labelled on the left), one column per projection
/// (headed on top), all tiles the same size. Each tile is contrast-stretched on its own (its min to black, its max to
/// white, jointly over R, G, B for colour), since a single unit's projection has an arbitrary range, and enlarged with
/// nearest neighbour so a tile is at least <see cref="MinTilePixels"/> pixels on its long side. A null cell is left empty.
/// </summary>
public static class ProjectionGrid
{
    public const int MinTilePixels = 48;
    public const int Gap = 3;
    public const int Margin = 8;
    public const int TitleHeight = 24;
    public const int HeaderHeight = 18;
    private const float TitleFontSize = 14, LabelFontSize = 11;

    private static readonly SKColor Background = new(0x2E, 0x5A, 0x87);
    private static readonly SKColor EmptyTile = new(0x3F, 0x6C, 0x99);
    private static readonly SKColor TextColor = SKColors.White;

    /// <summary>The grid as PNG bytes. Every non-null cell has the same [1 or 3, rows, cols] shape.</summary>
    public static byte[] Render(IReadOnlyList<IReadOnlyList<Tensor3?>> cells, IReadOnlyList<string> rowLabels, IReadOnlyList<string>? columnLabels, string title)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(rowLabels);
        if (rowLabels.Count != cells.Count) throw new ArgumentException($"{rowLabels.Count} row labels for {cells.Count} rows.", nameof(rowLabels));
        int columns = cells.Count == 0 ? 0 : cells.Max(r => r.Count);
        if (columnLabels is not null && columnLabels.Count != columns) throw new ArgumentException($"{columnLabels.Count} column labels for {columns} columns.", nameof(columnLabels));
        Tensor3[] present = cells.SelectMany(r => r).OfType<Tensor3>().ToArray();
        if (present.Length == 0) throw new ArgumentException("the grid has no tiles.", nameof(cells));
        Tensor3 first = present[0];
        if (first.Planes is not (1 or 3) || present.Any(t => !t.SameShape(first)))
            throw new ArgumentException($"tiles must share one shape of 1 or 3 planes; the first is {first}.", nameof(cells));

        int scale = Math.Max(1, (MinTilePixels + Math.Max(first.Rows, first.Cols) - 1) / Math.Max(first.Rows, first.Cols));
        int tileW = first.Cols * scale, tileH = first.Rows * scale;
        using SKFont titleFont = Raster.Font(TitleFontSize);
        using SKFont labelFont = Raster.Font(LabelFontSize);
        int labelWidth = (int)Math.Ceiling(rowLabels.Select(l => labelFont.MeasureText(l)).DefaultIfEmpty(0).Max()) + Margin;
        int header = columnLabels is null ? 0 : HeaderHeight;
        int gridW = columns * tileW + (columns - 1) * Gap;
        int width = Math.Max(2 * Margin + labelWidth + gridW, 2 * Margin + (int)Math.Ceiling(titleFont.MeasureText(title)));
        int top = Margin + TitleHeight + header;
        int height = top + cells.Count * tileH + (cells.Count - 1) * Gap + Margin;

        using SKBitmap bitmap = Raster.NewBitmap(width, height, Background);
        using var canvas = new SKCanvas(bitmap);
        Raster.LeftText(canvas, title, Margin, Margin + TitleFontSize, titleFont, TextColor);
        int left = Margin + labelWidth;
        if (columnLabels is not null)
            for (int c = 0; c < columns; c++)
                Raster.CentredText(canvas, columnLabels[c], left + c * (tileW + Gap) + tileW / 2f, top - 5, labelFont, TextColor);
        using var empty = new SKPaint { Color = EmptyTile };
        for (int r = 0; r < cells.Count; r++)
        {
            int y = top + r * (tileH + Gap);
            Raster.LeftText(canvas, rowLabels[r], Margin, y + tileH / 2f + LabelFontSize / 2f - 1, labelFont, TextColor);
            for (int c = 0; c < columns; c++)
            {
                int x = left + c * (tileW + Gap);
                Tensor3? tile = c < cells[r].Count ? cells[r][c] : null;
                if (tile is null)
                {
                    canvas.DrawRect(x, y, tileW, tileH, empty);
                    continue;
                }
                canvas.Flush();
                (float min, float max) = Raster.Range(tile.Data);
                int[] planes = tile.Planes == 3 ? [0, tile.PlaneLength, 2 * tile.PlaneLength] : [0];
                Raster.Blit(bitmap, x, y, tile.Data, planes, tile.Rows, tile.Cols, scale, min, max);
            }
        }
        canvas.Flush();
        return Raster.EncodePng(bitmap);
    }
}
