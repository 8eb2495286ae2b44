using SkiaSharp;

namespace Distributed.Client.Output;

/// <summary>Drawing helpers shared by the pictures: contrast stretch, nearest-neighbour blits, PNG encoding, captions.</summary>
internal static class Raster
{
    /// <summary>The (min, max) of every value in <paramref name="values"/>; (0, 0) when empty.</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return (0, 0);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return float.IsPositiveInfinity(min) ? (0, 0) : (min, max);
    }

    /// <summary>Maps v linearly from [min, max] to 0..255; a flat range maps to mid grey, non-finite values to 0.</summary>
    public static byte Stretch(float v, float min, float max)
    {
        if (!float.IsFinite(v)) return 0;
        if (!(max > min)) return 128;
        float t = (v - min) / (max - min);
        return (byte)Math.Clamp((int)MathF.Round(t * 255f), 0, 255);
    }

    /// <summary>
    /// Draws rows × cols planes (1 = grey, 3 = R, G, B; the planes <paramref name="planeOffsets"/> start at in
    /// <paramref name="data"/>) at (x, y), each source pixel a scale × scale block, stretched from [min, max].
    /// The bitmap must be <see cref="NewBitmap"/>'s opaque RGBA8888.
    /// </summary>
    public static void Blit(SKBitmap bitmap, int x, int y, ReadOnlySpan<float> data, int[] planeOffsets, int rows, int cols, int scale, float min, float max)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888) throw new ArgumentException($"bitmap is {bitmap.ColorType}; RGBA8888 expected.", nameof(bitmap));
        if (x < 0 || y < 0 || x + cols * scale > bitmap.Width || y + rows * scale > bitmap.Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"a {cols * scale}×{rows * scale} block at ({x}, {y}) leaves the {bitmap.Width}×{bitmap.Height} bitmap.");
        Span<byte> pixels = bitmap.GetPixelSpan();
        int stride = bitmap.RowBytes;
        bool colour = planeOffsets.Length == 3;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                byte red = Stretch(data[planeOffsets[0] + i], min, max);
                byte green = colour ? Stretch(data[planeOffsets[1] + i], min, max) : red;
                byte blue = colour ? Stretch(data[planeOffsets[2] + i], min, max) : red;
                for (int dy = 0; dy < scale; dy++)
                {
                    int row = (y + r * scale + dy) * stride + (x + c * scale) * 4;
                    for (int dx = 0; dx < scale; dx++)
                    {
                        pixels[row + 4 * dx] = red;
                        pixels[row + 4 * dx + 1] = green;
                        pixels[row + 4 * dx + 2] = blue;
                        pixels[row + 4 * dx + 3] = 255;
                    }
                }
            }
        }
    }

    /// <summary>An opaque RGBA8888 bitmap filled with <paramref name="background"/>.</summary>
    public static SKBitmap NewBitmap(int width, int height, SKColor background)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(background);
        return bitmap;
    }

    public static SKColor Grey(byte v) => new(v, v, v);

    public static SKFont Font(float size) => new(BundledFont.Typeface, size) { Subpixel = true, Edging = SKFontEdging.Antialias };

    /// <summary>Draws <paramref name="text"/> centred on <paramref name="centreX"/> with its baseline at <paramref name="baseline"/>.</summary>
    public static void CentredText(SKCanvas canvas, string text, float centreX, float baseline, SKFont font, SKColor color)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        canvas.DrawText(text, centreX, baseline, SKTextAlign.Center, font, paint);
    }

    public static void LeftText(SKCanvas canvas, string text, float x, float baseline, SKFont font, SKColor color)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        canvas.DrawText(text, x, baseline, SKTextAlign.Left, font, paint);
    }

    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
