using Distributed.Compute.Training;
using ScottPlot;

namespace Distributed.Client.Output;

/// <summary>
/// <c>objective.png</c>: the objective E per epoch, one line per layer, drawn with ScottPlot. The y axis is
/// logarithmic when every value is positive and they span more than a factor of <see cref="LogRangeRatio"/>
/// (layer 2's objective is often orders of magnitude from layer 1's).
/// </summary>
public static class ObjectivePlot
{
    public const int DefaultWidth = 800;
    public const int DefaultHeight = 500;
    public const double LogRangeRatio = 100;

    /// <summary>Whether <see cref="Render"/> draws these metrics on a log y axis.</summary>
    public static bool UsesLogScale(IEnumerable<EpochMetrics> metrics)
    {
        double[] values = metrics.Select(m => m.Objective).Where(double.IsFinite).ToArray();
        return values.Length > 0 && values.Min() > 0 && values.Max() / values.Min() > LogRangeRatio;
    }

    public static byte[] Render(IReadOnlyList<EpochMetrics> metrics, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        bool log = UsesLogScale(metrics);

        var plot = new Plot();
        if (BundledFont.EnsureScottPlotFont()) plot.Font.Set(BundledFont.FamilyName);
        foreach (IGrouping<int, EpochMetrics> layer in metrics.GroupBy(m => m.Layer).OrderBy(g => g.Key))
        {
            EpochMetrics[] points = layer.Where(m => double.IsFinite(m.Objective)).OrderBy(m => m.Epoch).ToArray();
            if (points.Length == 0) continue;
            double[] xs = points.Select(m => (double)m.Epoch).ToArray();
            double[] ys = points.Select(m => log ? Math.Log10(m.Objective) : m.Objective).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = $"layer {layer.Key}";
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }

        plot.Title("Objective per epoch");
        plot.XLabel("epoch");
        plot.YLabel(log ? "objective E (log scale)" : "objective E");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (log)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => FormatPower(y),
            };
        }
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.12);
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Writes the plot atomically as <paramref name="fileName"/>; returns the path.</summary>
    public static string Write(OutputFolder folder, IReadOnlyList<EpochMetrics> metrics, string fileName = "objective.png")
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteBytes(fileName, Render(metrics));
    }

    private static string FormatPower(double exponent)
    {
        double value = Math.Pow(10, exponent);
        return value is >= 0.001 and < 1e6
            ? value.ToString("#,0.###", System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString("0e0", System.Globalization.CultureInfo.InvariantCulture);
    }
}
