using Distributed.Client.Output;
using Distributed.Compute.Training;

namespace Distributed.Client.Tests.Output;

public class ObjectivePlotTests
{
    private static EpochMetrics Row(int layer, int epoch, double objective) =>
        new(layer, epoch, objective, objective * 0.6, objective * 0.4, 0.05, 21.5, 1.25, 5);

    [Fact]
    public void Render_TwoLayers_IsAn800x500PngWithColouredLines()
    {
        EpochMetrics[] metrics = [Row(1, 1, 900), Row(1, 2, 700), Row(1, 3, 650), Row(2, 1, 300), Row(2, 2, 200), Row(2, 3, 180)];

        var picture = new Picture(ObjectivePlot.Render(metrics));

        Assert.Equal((800, 500), (picture.Width, picture.Height));
        int coloured = 0;
        for (int y = 0; y < picture.Height; y += 2)
        {
            for (int x = 0; x < picture.Width; x += 2)
            {
                (byte r, byte g, byte b) = picture[x, y];
                if (Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b)) > 80) coloured++;
            }
        }
        Assert.True(coloured > 50, $"only {coloured} saturated pixels: no series drawn?");
    }

    [Fact]
    public void Render_CustomSize_IsHonoured()
    {
        var picture = new Picture(ObjectivePlot.Render([Row(1, 1, 5), Row(1, 2, 4)], 640, 360));

        Assert.Equal((640, 360), (picture.Width, picture.Height));
    }

    [Fact]
    public void UsesLogScale_RangeOverAHundredfold_IsTrue()
    {
        Assert.True(ObjectivePlot.UsesLogScale([Row(1, 1, 5000), Row(2, 1, 40)]));
    }

    [Fact]
    public void UsesLogScale_NarrowRangeOrNonPositive_IsFalse()
    {
        Assert.False(ObjectivePlot.UsesLogScale([Row(1, 1, 500), Row(1, 2, 40)]));
        Assert.False(ObjectivePlot.UsesLogScale([Row(1, 1, 5000), Row(1, 2, 0)]));
        Assert.False(ObjectivePlot.UsesLogScale([]));
    }

    [Fact]
    public void Render_NoMetrics_StillGivesAPng()
    {
        var picture = new Picture(ObjectivePlot.Render([]));

        Assert.Equal(800, picture.Width);
    }
}
