using SkiaSharp;

namespace Distributed.Client.Output;

/// <summary>
/// DejaVu Sans, shipped in <c>fonts/</c> beside the executable (assets/fonts in the repository), so captions and plot
/// labels draw on machines without system fonts — SkiaSharp's no-dependencies native build finds none there.
/// </summary>
internal static class BundledFont
{
    public const string FamilyName = "DejaVu Sans";
    public const string FileName = "DejaVuSans.ttf";

    private static readonly Lazy<SKTypeface> Loaded = new(Load);
    private static readonly Lazy<bool> RegisteredWithScottPlot = new(RegisterWithScottPlot);

    public static string FilePath => Path.Combine(AppContext.BaseDirectory, "fonts", FileName);

    /// <summary>The bundled typeface; Skia's default one if the file is missing (then text may not draw, but nothing fails).</summary>
    public static SKTypeface Typeface => Loaded.Value;

    /// <summary>Makes <see cref="FamilyName"/> resolvable by ScottPlot; false when the file is missing.</summary>
    public static bool EnsureScottPlotFont() => RegisteredWithScottPlot.Value;

    private static SKTypeface Load() =>
        File.Exists(FilePath) ? SKTypeface.FromFile(FilePath) ?? SKTypeface.Default : SKTypeface.Default;

    private static bool RegisterWithScottPlot()
    {
        if (!File.Exists(FilePath)) return false;
        ScottPlot.Fonts.AddFontFile(FamilyName, FilePath);
        ScottPlot.Fonts.Default = FamilyName;
        return true;
    }
}
