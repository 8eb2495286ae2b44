using Distributed.Client.Output;
using Distributed.Compute.Tensors;

namespace Distributed.Client.Tests.Output;

public class FilterMontageTests
{
    private static readonly (byte, byte, byte) Background = (0x2E, 0x5A, 0x87);
    private static readonly (byte, byte, byte) Empty = (0x3F, 0x6C, 0x99);

    private static FilterBank RandomFilters(int maps, int inputs, int size, int seed)
    {
        var random = new Random(seed);
        var f = new FilterBank(maps, inputs, size);
        for (int i = 0; i < f.Data.Length; i++) f.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return f;
    }

    [Fact]
    public void Render_NineGreyFilters7x7_Is3x3GridOf42PixelTiles()
    {
        byte[] png = FilterMontage.Render(RandomFilters(9, 1, 7, seed: 1));

        var picture = new Picture(png);
        // 6 px margins, three 42 px tiles (7 × 6) and two 4 px gaps each way; each tile framed in the gap.
        Assert.Equal((146, 146), (picture.Width, picture.Height));
        Assert.Equal(((byte)16, (byte)16, (byte)16), picture[6 + 42, 6]); // the first tile's frame
        Assert.Equal(Background, picture[6 + 43, 6]); // the gap between frames
        Assert.Equal(((byte)16, (byte)16, (byte)16), picture[6 + 46 - 1, 6]); // the second tile's frame
    }

    [Fact]
    public void Measure_AnyFilterSize_GivesTheSmallestWholeScaleReaching40Pixels()
    {
        for (int s = 1; s <= 64; s++)
        {
            FilterMontage.Layout layout = FilterMontage.Measure(new FilterBank(1, 1, s));
            Assert.True(layout.Tile >= 40 || layout.Scale == 1, $"s = {s}: tile {layout.Tile}");
            Assert.True(layout.Scale == 1 || (layout.Scale - 1) * s < 40, $"s = {s}: scale {layout.Scale} is larger than needed");
            Assert.Equal(s * layout.Scale, layout.Tile);
        }
    }

    [Fact]
    public void Render_EachFilter_IsStretchedToFullRangeOnItsOwn()
    {
        // Filter 0: one bright pixel at (0, 0) on −1; filter 1: the same pattern a thousand times weaker.
        var filters = new FilterBank(2, 1, 7);
        filters.Plane(0, 0).Fill(-1f);
        filters[0, 0, 0, 0] = 1f;
        filters.Plane(1, 0).Fill(-0.001f);
        filters[1, 0, 0, 0] = 0.001f;

        var picture = new Picture(FilterMontage.Render(filters));

        FilterMontage.Layout layout = FilterMontage.Measure(filters);
        Assert.Equal((2, 1), (layout.GridCols, layout.GridRows));
        foreach (int x0 in new[] { layout.GridLeft, layout.GridLeft + layout.Tile + FilterMontage.Gap })
        {
            Assert.Equal(((byte)255, (byte)255, (byte)255), picture[x0, 6]);
            Assert.Equal(((byte)255, (byte)255, (byte)255), picture[x0 + 5, 6 + 5]); // still the first source pixel (scale 6)
            Assert.Equal(((byte)0, (byte)0, (byte)0), picture[x0 + 6, 6]);
            Assert.Equal(((byte)0, (byte)0, (byte)0), picture[x0 + 41, 6 + 41]);
        }
    }

    [Fact]
    public void Render_ZeroInAnyFilter_IsMidGrey()
    {
        // Every value ≥ 0: a min-to-max stretch would paint the zeros black; around zero they are mid grey.
        var filters = new FilterBank(1, 1, 7);
        filters.Plane(0, 0).Fill(0.5f);
        filters[0, 0, 0, 0] = 2f;
        filters[0, 0, 6, 6] = 0f;

        var picture = new Picture(FilterMontage.Render(filters));

        FilterMontage.Layout layout = FilterMontage.Measure(filters);
        (byte zero, _, _) = picture[layout.GridLeft + 41, 6 + 41];
        (byte quarter, _, _) = picture[layout.GridLeft + 20, 6 + 20];
        (byte top, _, _) = picture[layout.GridLeft, 6];
        Assert.InRange(zero, 126, 129);
        Assert.InRange(quarter, 158, 161); // 0.5 of a 2.0 extent: a quarter of the way from grey to white
        Assert.Equal(255, top);
    }

    [Fact]
    public void Render_ThreeInputPlanes_DrawsColourTiles()
    {
        var filters = new FilterBank(1, 3, 4);
        filters.Plane(0, 0).Fill(1f); // red plane high, green and blue low
        filters.Plane(0, 1).Fill(-1f);
        filters.Plane(0, 2).Fill(-1f);

        var picture = new Picture(FilterMontage.Render(filters));

        Assert.Equal(((byte)255, (byte)0, (byte)0), picture[6 + 20, 6 + 20]);
        Assert.Equal((2 * 6 + 40, 2 * 6 + 40), (picture.Width, picture.Height));
    }

    [Fact]
    public void Render_NineInputPlanes_DrawsStripsAndLeavesUnconnectedPlanesEmpty()
    {
        FilterBank filters = RandomFilters(45, 9, 7, seed: 2);
        filters.Plane(0, 3).Clear();

        byte[] png = FilterMontage.Render(filters, "layer 2");

        var picture = new Picture(png);
        FilterMontage.Layout layout = FilterMontage.Measure(filters, "layer 2");
        Assert.True(layout.Strips);
        Assert.Equal((layout.Width, layout.Height), (picture.Width, picture.Height));
        Assert.True((layout.GridRows - 1) * layout.GridCols < 45 && 45 <= layout.GridRows * layout.GridCols, $"grid {layout.GridRows}×{layout.GridCols}");
        Assert.True(layout.GridCols > 1, "45 strips of 9 tiles should wrap into more than one column");
        int top = FilterMontage.Margin + FilterMontage.TitleHeight;
        int emptyX = layout.GridLeft + 3 * (layout.Tile + FilterMontage.Gap);
        Assert.Equal(Empty, picture[emptyX + 10, top + 10]);
        Assert.NotEqual(Empty, picture[layout.GridLeft + 10, top + 10]);
        Assert.True(picture.CountOther(0, 0, picture.Width, top - 4, Background) > 20, "the title drew no text");
    }

    [Fact]
    public void Render_LongTitleOnTinyBank_WidensTheImageToFitTheTitle()
    {
        var filters = new FilterBank(1, 1, 3);

        FilterMontage.Layout layout = FilterMontage.Measure(filters, "a rather long title for one filter");
        var picture = new Picture(FilterMontage.Render(filters, "a rather long title for one filter"));

        Assert.True(layout.Width > 2 * FilterMontage.Margin + layout.Tile, $"width {layout.Width}");
        Assert.Equal(layout.Width, picture.Width);
        Assert.Equal((layout.Width - layout.Tile) / 2, layout.GridLeft);
    }

    [Fact]
    public void Write_ToOutputFolder_WritesTheRenderedBytes()
    {
        using var temp = new TempFolder();
        FilterBank filters = RandomFilters(4, 1, 5, seed: 3);

        string path = FilterMontage.Write(new OutputFolder(temp.Path), "filters-L1.png", filters);

        Assert.Equal(Path.Combine(temp.Path, "filters-L1.png"), path);
        Assert.Equal(FilterMontage.Render(filters), File.ReadAllBytes(path));
    }
}
