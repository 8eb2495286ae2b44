using Distributed.Compute.Tensors;
using SkiaSharp;

namespace Distributed.Client.Output;

/// <summary>
/// A PNG of a layer's filters [K, C, s, s], meant to be read at a glance. Each filter k is scaled on its own around a
/// zero-centred grey: 0 is mid grey, ±max|f_k| over all its planes is white / black, so a filter's sign and its flat
/// parts read the same in every tile (a min-to-max stretch would turn a near-constant filter into noise). Tiles are
/// enlarged with nearest neighbour to at least <see cref="MinTilePixels"/> pixels (7×7 → 42×42, 8×8 → 40×40) and framed
/// in dark grey. With C = 1 a filter is one grey tile, with C = 3 one colour tile (planes as R, G, B); tiles fill a
/// near-square grid row by row. With any other C a filter is a strip of C grey tiles, one per input plane, and strips
/// run down the columns of a near-square grid; a plane that is all zero (not connected) is left empty.
/// </summary>
public static class FilterMontage
{
    public const int MinTilePixels = 40;
    public const int Gap = 4;
    public const int StripGap = 10;
    public const int Margin = 6;
    public const int TitleHeight = 24;
    private const float TitleFontSize = 14;

    // A mid blue, so the gaps stand out against black, white and grey tiles alike.
    private static readonly SKColor Background = new(0x2E, 0x5A, 0x87);
    private static readonly SKColor EmptyTile = new(0x3F, 0x6C, 0x99);
    private static readonly SKColor TitleColor = SKColors.White;
    private static readonly SKColor Frame = new(0x10, 0x10, 0x10);

    /// <summary>Geometry of a montage: the tile scale and grid, and the image's size in pixels.</summary>
    public readonly record struct Layout(int Scale, int Tile, bool Strips, int GridRows, int GridCols, int GridLeft, int Width, int Height);

    public static Layout Measure(FilterBank filters, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(filters);
        int scale = Math.Max(1, (MinTilePixels + filters.Size - 1) / filters.Size);
        int tile = filters.Size * scale;
        int top = Margin + (string.IsNullOrEmpty(title) ? 0 : TitleHeight);
        bool strips = filters.Inputs is not (1 or 3);
        int gridRows, gridCols, gridWidth;
        if (!strips)
        {
            gridCols = (int)Math.Ceiling(Math.Sqrt(filters.Maps));
            gridRows = (filters.Maps + gridCols - 1) / gridCols;
            gridWidth = gridCols * tile + (gridCols - 1) * Gap;
        }
        else
        {
            int stripWidth = filters.Inputs * tile + (filters.Inputs - 1) * Gap;
            gridCols = 1;
            double bestSkew = double.PositiveInfinity;
            for (int n = 1; n <= filters.Maps; n++)
            {
                int rows = (filters.Maps + n - 1) / n;
                double skew = Math.Abs(Math.Log((double)(n * stripWidth + (n - 1) * StripGap) / (rows * tile + (rows - 1) * Gap)));
                if (skew < bestSkew - 1e-12) (gridCols, bestSkew) = (n, skew);
            }
            gridRows = (filters.Maps + gridCols - 1) / gridCols;
            gridWidth = gridCols * stripWidth + (gridCols - 1) * StripGap;
        }
        int width = Math.Max(2 * Margin + gridWidth, TitleWidth(title));
        int height = top + Margin + gridRows * tile + (gridRows - 1) * Gap;
        return new Layout(scale, tile, strips, gridRows, gridCols, (width - gridWidth) / 2, width, height);
    }

    private static int TitleWidth(string? title)
    {
        if (string.IsNullOrEmpty(title)) return 0;
        using SKFont font = Raster.Font(TitleFontSize);
        return 2 * Margin + (int)Math.Ceiling(font.MeasureText(title));
    }

    /// <summary>The montage as PNG bytes; <paramref name="title"/>, if given, is drawn above the grid.</summary>
    public static byte[] Render(FilterBank filters, string? title = null)
    {
        Layout layout = Measure(filters, title);
        using SKBitmap bitmap = Raster.NewBitmap(layout.Width, layout.Height, Background);
        int top = Margin + (string.IsNullOrEmpty(title) ? 0 : TitleHeight);
        int s = filters.Size;
        for (int k = 0; k < filters.Maps; k++)
        {
            int start = k * filters.Inputs * filters.PlaneLength;
            ReadOnlySpan<float> filter = filters.Data.AsSpan(start, filters.Inputs * filters.PlaneLength);
            (float min, float max) = Raster.Range(filter);
            float extent = Math.Max(Math.Abs(min), Math.Abs(max));
            (min, max) = extent > 0 ? (-extent, extent) : (-1f, 1f);
            if (!layout.Strips)
            {
                int x = layout.GridLeft + k % layout.GridCols * (layout.Tile + Gap), y = top + k / layout.GridCols * (layout.Tile + Gap);
                int[] planes = filters.Inputs == 3 ? [0, filters.PlaneLength, 2 * filters.PlaneLength] : [0];
                Raster.Blit(bitmap, x, y, filter, planes, s, s, layout.Scale, min, max);
                DrawFrame(bitmap, x, y, layout.Tile);
                continue;
            }
            int stripWidth = filters.Inputs * layout.Tile + (filters.Inputs - 1) * Gap;
            int stripX = layout.GridLeft + k / layout.GridRows * (stripWidth + StripGap), stripY = top + k % layout.GridRows * (layout.Tile + Gap);
            for (int c = 0; c < filters.Inputs; c++)
            {
                int x = stripX + c * (layout.Tile + Gap);
                if (IsZero(filters.ReadPlane(k, c)))
                {
                    using var canvas = new SKCanvas(bitmap);
                    using var paint = new SKPaint { Color = EmptyTile };
                    canvas.DrawRect(x, stripY, layout.Tile, layout.Tile, paint);
                    continue;
                }
                Raster.Blit(bitmap, x, stripY, filter, [c * filters.PlaneLength], s, s, layout.Scale, min, max);
                DrawFrame(bitmap, x, stripY, layout.Tile);
            }
        }
        if (!string.IsNullOrEmpty(title))
        {
            using var canvas = new SKCanvas(bitmap);
            using SKFont font = Raster.Font(TitleFontSize);
            Raster.LeftText(canvas, title, Margin, Margin + 15, font, TitleColor);
        }
        return Raster.EncodePng(bitmap);
    }

    /// <summary>Writes the montage atomically as <paramref name="fileName"/> (e.g. <c>filters-L1.png</c>); returns the path.</summary>
    public static string Write(OutputFolder folder, string fileName, FilterBank filters, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteBytes(fileName, Render(filters, title));
    }

    /// <summary>A one-pixel frame just outside a tile, in the gap, so the tile's own edge pixels stay visible.</summary>
    private static void DrawFrame(SKBitmap bitmap, int x, int y, int tile)
    {
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { Color = Frame, Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = false };
        canvas.DrawRect(x - 0.5f, y - 0.5f, tile + 1, tile + 1, paint);
    }

    private static bool IsZero(ReadOnlySpan<float> plane)
    {
        foreach (float v in plane) if (v != 0) return false;
        return true;
    }
}
