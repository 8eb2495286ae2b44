using Distributed.Client.Output;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Tests.Output;

public class ReconstructionImageTests
{
    private static readonly (byte, byte, byte) White = (255, 255, 255);

    private static string SamplePath(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distributed.sln"))) return Path.Combine(dir.FullName, "samples", "images", name);
        throw new DirectoryNotFoundException("no Distributed.sln above the test assembly");
    }

    [Fact]
    public void Render_PhotoAndTwoLayers_HasTwiceSizePanelsSideBySideUnderCaptions()
    {
        Tensor3 input = ImageDecoder.DecodeFile(SamplePath("skimage-coffee.png"), new ImageLoadOptions { Grey = true }); // 128 × 85
        Tensor3 lcn = Preprocessor.ApplyToImage(input, Preprocessing.Lcn);

        var picture = new Picture(ReconstructionImage.Render(lcn, [lcn, input]));

        // Scale 256 / 128 = 2: margins 10, three 256-wide panels, two 12 px gaps; 24 px captions over 170 px panels.
        Assert.Equal((2 * 10 + 3 * 256 + 2 * 12, 2 * 10 + 24 + 170), (picture.Width, picture.Height));
        Assert.Equal(White, picture[10 + 256 + 6, 100]); // the gap between panels
        Assert.True(picture.CountOther(10, 0, 256, 34, White) > 20, "no caption text over the first panel");
        Assert.True(picture.CountOther(10 + 2 * (256 + 12), 0, 256, 34, White) > 20, "no caption text over the last panel");
    }

    [Fact]
    public void Render_ArbitraryRange_IsStretchedToFullBlackAndWhite()
    {
        var input = new Tensor3(1, 2, 2, [-3f, 5f, 1f, 1f]);

        var picture = new Picture(ReconstructionImage.Render(input, []));

        // 2 × 2 pixels enlarged 128 times.
        Assert.Equal((2 * 10 + 256, 2 * 10 + 24 + 256), (picture.Width, picture.Height));
        Assert.Equal(((byte)0, (byte)0, (byte)0), picture[10 + 5, 34 + 5]);
        Assert.Equal(((byte)255, (byte)255, (byte)255), picture[10 + 128 + 5, 34 + 5]);
        Assert.Equal(((byte)128, (byte)128, (byte)128), picture[10 + 5, 34 + 128 + 5]); // 1 is half way from −3 to 5
    }

    [Fact]
    public void Render_ColourInput_KeepsItsColours()
    {
        var input = new Tensor3(3, 1, 2, [1f, 0f, 0f, 0f, 0f, 1f]); // red, then blue

        var picture = new Picture(ReconstructionImage.Render(input, [input]));

        Assert.Equal(((byte)255, (byte)0, (byte)0), picture[10 + 3, 34 + 3]);
        Assert.Equal(((byte)0, (byte)0, (byte)255), picture[10 + 128 + 3, 34 + 3]);
    }

    [Fact]
    public void Render_LargeImage_IsNotEnlarged()
    {
        var input = new Tensor3(1, 300, 400);

        ReconstructionImage.Layout layout = ReconstructionImage.Measure(input, [input]);

        Assert.Equal(new ReconstructionImage.Layout(1, 2 * 10 + 2 * 400 + 12, 2 * 10 + 24 + 300), layout);
    }

    [Fact]
    public void Render_FourPlanes_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReconstructionImage.Render(new Tensor3(4, 3, 3), []));

        Assert.Contains("4 planes", ex.Message);
    }

    [Fact]
    public void Render_WrongCaptionCount_Throws()
    {
        var input = new Tensor3(1, 3, 3);

        Assert.Throws<ArgumentException>(() => ReconstructionImage.Render(input, [input], ["only one"]));
    }

    [Fact]
    public void DefaultCaptions_AreInputThenLayers()
    {
        Assert.Equal(["input", "layer 1", "layer 2"], ReconstructionImage.DefaultCaptions(2));
    }

    [Fact]
    public void BundledFont_IsCopiedBesideTheAssemblyAndLoads()
    {
        Assert.True(File.Exists(BundledFont.FilePath), $"missing {BundledFont.FilePath}");
        Assert.Equal("DejaVu Sans", BundledFont.Typeface.FamilyName);
    }
}
