using Distributed.Compute.Tensors;
using SkiaSharp;

namespace Distributed.Client.Output;

/// <summary>
/// A PNG of an input image beside its reconstructions, left to right, each with a caption above ("input",
/// "layer 1", …). Every panel is contrast-stretched on its own (its min to black, its max to white, jointly over the
/// R, G, B planes of a colour panel), since preprocessed inputs and reconstructions have arbitrary ranges, and
/// enlarged by the same whole factor — the largest that keeps the long side of the largest panel within
/// <see cref="TargetPanelPixels"/>, at least 1 — with nearest neighbour so pixels stay visible.
/// </summary>
public static class ReconstructionImage
{
    public const int TargetPanelPixels = 256;
    public const int Gap = 12;
    public const int Margin = 10;
    public const int CaptionHeight = 24;
    private const float CaptionFontSize = 14;

    private static readonly SKColor Background = SKColors.White;
    private static readonly SKColor CaptionColor = new(0x21, 0x21, 0x21);

    /// <summary>Size of the PNG in pixels and the enlargement factor.</summary>
    public readonly record struct Layout(int Scale, int Width, int Height);

    /// <summary>The default captions: "input", then "layer 1" … "layer n".</summary>
    public static IReadOnlyList<string> DefaultCaptions(int reconstructions) =>
        ["input", .. Enumerable.Range(1, reconstructions).Select(l => $"layer {l}")];

    public static Layout Measure(Tensor3 input, IReadOnlyList<Tensor3> reconstructions)
    {
        List<Tensor3> panels = Panels(input, reconstructions);
        int longest = panels.Max(p => Math.Max(p.Rows, p.Cols));
        int scale = Math.Max(1, TargetPanelPixels / Math.Max(1, longest));
        int width = 2 * Margin + panels.Sum(p => p.Cols * scale) + (panels.Count - 1) * Gap;
        int height = 2 * Margin + CaptionHeight + panels.Max(p => p.Rows * scale);
        return new Layout(scale, width, height);
    }

    /// <summary>
    /// The picture as PNG bytes. Every panel has 1 (grey) or 3 (RGB) planes; <paramref name="captions"/> has one
    /// entry per panel (input first) or is null for <see cref="DefaultCaptions"/>.
    /// </summary>
    public static byte[] Render(Tensor3 input, IReadOnlyList<Tensor3> reconstructions, IReadOnlyList<string>? captions = null)
    {
        List<Tensor3> panels = Panels(input, reconstructions);
        captions ??= DefaultCaptions(reconstructions.Count);
        if (captions.Count != panels.Count)
            throw new ArgumentException($"{captions.Count} captions for {panels.Count} panels.", nameof(captions));
        Layout layout = Measure(input, reconstructions);
        using SKBitmap bitmap = Raster.NewBitmap(layout.Width, layout.Height, Background);
        using var canvas = new SKCanvas(bitmap);
        using SKFont font = Raster.Font(CaptionFontSize);
        int x = Margin;
        foreach ((Tensor3 panel, string caption) in panels.Zip(captions))
        {
            (float min, float max) = Raster.Range(panel.Data);
            int[] planes = panel.Planes == 3 ? [0, panel.PlaneLength, 2 * panel.PlaneLength] : [0];
            Raster.Blit(bitmap, x, Margin + CaptionHeight, panel.Data, planes, panel.Rows, panel.Cols, layout.Scale, min, max);
            int panelWidth = panel.Cols * layout.Scale;
            Raster.CentredText(canvas, Fit(caption, font, panelWidth + Gap), x + panelWidth / 2f, Margin + 16, font, CaptionColor);
            x += panelWidth + Gap;
        }
        canvas.Flush();
        return Raster.EncodePng(bitmap);
    }

    /// <summary>Writes the picture atomically as <paramref name="fileName"/> (e.g. <c>reconstruction-cat.png</c>); returns the path.</summary>
    public static string Write(OutputFolder folder, string fileName, Tensor3 input, IReadOnlyList<Tensor3> reconstructions, IReadOnlyList<string>? captions = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteBytes(fileName, Render(input, reconstructions, captions));
    }

    private static List<Tensor3> Panels(Tensor3 input, IReadOnlyList<Tensor3> reconstructions)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(reconstructions);
        List<Tensor3> panels = [input, .. reconstructions];
        foreach (Tensor3 p in panels)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(reconstructions));
            if (p.Planes is not (1 or 3)) throw new ArgumentException($"a panel of shape {p} has {p.Planes} planes; 1 (grey) or 3 (RGB) can be drawn.", nameof(reconstructions));
            if (p.Rows == 0 || p.Cols == 0) throw new ArgumentException($"a panel of shape {p} is empty.", nameof(reconstructions));
        }
        return panels;
    }

    /// <summary>The caption, cut with an ellipsis if it is wider than its panel.</summary>
    private static string Fit(string caption, SKFont font, float width)
    {
        if (font.MeasureText(caption) <= width) return caption;
        for (int n = caption.Length - 1; n > 0; n--)
        {
            string cut = caption[..n] + "…";
            if (font.MeasureText(cut) <= width) return cut;
        }
        return "";
    }
}
