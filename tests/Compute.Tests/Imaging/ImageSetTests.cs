using Distributed.Compute.Imaging;

namespace Distributed.Compute.Tests.Imaging;

public class ImageSetTests
{
    private static byte[] Grey(int width, int height) => TestFiles.Netpbm('5', width, height, 255, Enumerable.Range(0, width * height).Select(i => i % 256).ToArray());

    private static byte[] Rgb(int width, int height) => TestFiles.Netpbm('6', width, height, 255, Enumerable.Range(0, 3 * width * height).Select(i => i % 256).ToArray());

    [Fact]
    public void LoadFolder_Samples_LoadsEveryPhotoSortedByName()
    {
        ImageSet set = ImageSet.LoadFolder(TestFiles.Samples);

        Assert.Equal(TestFiles.SampleNames, set.Images.Select(i => i.Name));
        Assert.Equal(3, set.Planes);
        Assert.Empty(set.Warnings);
        Assert.Contains(set.Images, i => i.Pixels.Rows != i.Pixels.Cols); // different sizes in one set are fine
    }

    [Fact]
    public void LoadFolder_SortsOrdinallyIgnoresOtherFilesAndSubfolders()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("b.pgm", Grey(2, 2));
        folder.Write("B.PGM", Grey(3, 2));
        folder.Write("a.pnm", Grey(2, 3));
        folder.Write("notes.txt", "not an image"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(folder.Path, "sub"));
        File.WriteAllBytes(Path.Combine(folder.Path, "sub", "c.pgm"), Grey(2, 2));

        ImageSet set = ImageSet.LoadFolder(folder.Path);

        Assert.Equal(["B.PGM", "a.pnm", "b.pgm"], set.Images.Select(i => i.Name));
        Assert.Equal(Path.Combine(folder.Path, "a.pnm"), set.Images[1].Source);
        Assert.Equal((3, 2), (set.Images[1].Pixels.Rows, set.Images[1].Pixels.Cols)); // 2 wide, 3 high
    }

    [Fact]
    public void LoadFolder_NoImages_ThrowsNamingTheFolder()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("readme.md", "hello"u8.ToArray());

        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.LoadFolder(folder.Path));

        Assert.StartsWith($"{folder.Path}: no images in this folder", ex.Message);
    }

    [Fact]
    public void LoadFolder_MissingFolder_ThrowsFolderNotFound()
    {
        using var folder = new TestFiles.TempFolder();
        string missing = Path.Combine(folder.Path, "nope");

        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.LoadFolder(missing));

        Assert.Equal($"{missing}: folder not found", ex.Message);
    }

    [Fact]
    public void LoadFolder_BadFile_ThrowsNamingTheFile()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("a.pgm", Grey(2, 2));
        string bad = folder.Write("b.png", []);

        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.LoadFolder(folder.Path));

        Assert.Equal($"{bad}: zero-byte file", ex.Message);
    }

    [Fact]
    public void LoadFolder_BadFilesWithSkipBad_SkipsThemWithWarnings()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("a.pgm", Grey(2, 2));
        string empty = folder.Write("b.png", []);
        string text = folder.Write("c.jpg", "hello"u8.ToArray());
        folder.Write("d.pgm", Grey(4, 4));

        ImageSet set = ImageSet.LoadFolder(folder.Path, new ImageLoadOptions { SkipBad = true });

        Assert.Equal(["a.pgm", "d.pgm"], set.Images.Select(i => i.Name));
        Assert.Equal(2, set.Warnings.Count);
        Assert.Equal($"{empty}: zero-byte file", set.Warnings[0]);
        Assert.StartsWith($"{text}: not a PNG", set.Warnings[1]);
    }

    [Fact]
    public void LoadFolder_EveryFileBadWithSkipBad_ThrowsListingThem()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("b.png", []);

        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.LoadFolder(folder.Path, new ImageLoadOptions { SkipBad = true }));

        Assert.Contains("no readable images; skipped 1", ex.Message);
        Assert.Contains("b.png: zero-byte file", ex.Message);
    }

    [Fact]
    public void LoadFolder_GreyAndColourMixed_ThrowsNamingBothFiles()
    {
        using var folder = new TestFiles.TempFolder();
        string grey = folder.Write("a.pgm", Grey(2, 2));
        string colour = folder.Write("b.ppm", Rgb(2, 2));

        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.LoadFolder(folder.Path));

        Assert.StartsWith($"{colour}: colour (3 planes) but {grey} is grey (1 plane)", ex.Message);
        Assert.Contains("grey conversion", ex.Message);
    }

    [Fact]
    public void LoadFolder_GreyAndColourMixedWithGrey_GivesOnePlaneEach()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("a.pgm", Grey(2, 2));
        folder.Write("b.ppm", Rgb(3, 2));

        ImageSet set = ImageSet.LoadFolder(folder.Path, new ImageLoadOptions { Grey = true });

        Assert.Equal(1, set.Planes);
        Assert.All(set.Images, i => Assert.Equal(1, i.Pixels.Planes));
    }

    [Fact]
    public void LoadFiles_KeepsTheGivenOrder()
    {
        string[] files = [Path.Combine(TestFiles.Samples, "skimage-coffee.png"), Path.Combine(TestFiles.Samples, "skimage-astronaut.png")];

        ImageSet set = ImageSet.LoadFiles(files, new ImageLoadOptions { Grey = true });

        Assert.Equal(["skimage-coffee.png", "skimage-astronaut.png"], set.Images.Select(i => i.Name));
        Assert.Equal((85, 128), (set.Images[0].Pixels.Rows, set.Images[0].Pixels.Cols));
    }

    [Fact]
    public void Decode_Uploads_GivesTheSamePixelsAsTheFiles()
    {
        string path = Path.Combine(TestFiles.Samples, "skimage-chelsea.png");
        var upload = new EncodedImage("chelsea.png", File.ReadAllBytes(path));

        ImageSet set = ImageSet.Decode([upload]);

        Assert.Equal("chelsea.png", set.Images[0].Name);
        Assert.Equal(ImageDecoder.DecodeFile(path).Data, set.Images[0].Pixels.Data);
    }

    [Fact]
    public void Decode_BadUpload_ThrowsNamingTheUpload()
    {
        var ex = Assert.Throws<ImageLoadException>(() => ImageSet.Decode([new EncodedImage("up/x.png", [1, 2, 3])]));

        Assert.StartsWith("up/x.png: not a PNG", ex.Message);
    }

    [Fact]
    public void ListUnsupported_OtherImageFormats_NamedSortedOthersIgnored()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("a.pgm", Grey(2, 2));
        foreach (string name in new[] { "scan.TIFF", "anim.gif", "old.bmp", "web.webp", "notes.txt", "data.npy" }) folder.Write(name, [1]);

        Assert.Equal(["anim.gif", "old.bmp", "scan.TIFF", "web.webp"], ImageSet.ListUnsupported(folder.Path).Select(Path.GetFileName));
        Assert.Equal(["a.pgm"], ImageSet.ListFolder(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Without_SkipOrNot_DropsWithWarningsOrThrowsNamingTheFirst()
    {
        using var folder = new TestFiles.TempFolder();
        folder.Write("big.pgm", Grey(8, 8));
        folder.Write("small.pgm", Grey(3, 2));
        ImageSet set = ImageSet.LoadFolder(folder.Path);
        string? TooSmall(NamedImage i) => i.Pixels.Rows < 4 ? $"{i.Pixels.Cols}×{i.Pixels.Rows} is smaller than 4×4" : null;

        ImageSet kept = set.Without(TooSmall, skip: true);
        var e = Assert.Throws<ImageLoadException>(() => set.Without(TooSmall, skip: false));
        var none = Assert.Throws<ImageLoadException>(() => set.Without(_ => "no", skip: true));

        Assert.Equal(["big.pgm"], kept.Images.Select(i => i.Name));
        Assert.Equal([$"{Path.Combine(folder.Path, "small.pgm")}: 3×2 is smaller than 4×4"], kept.Warnings);
        Assert.Equal($"{Path.Combine(folder.Path, "small.pgm")}: 3×2 is smaller than 4×4", e.Message);
        Assert.Contains("no usable images; skipped 2", none.Message);
    }

    [Fact]
    public void Within_ASilosCeiling_LowersButNeverRaisesTheLimits()
    {
        var ceiling = new ImageLoadOptions { MaxPixels = 1000, MaxFileBytes = 5000 };

        ImageLoadOptions asked = new ImageLoadOptions { MaxPixels = 20_000_000, MaxFileBytes = 100, Grey = true }.Within(ceiling);

        Assert.Equal((1000L, 100L, true), (asked.MaxPixels, asked.MaxFileBytes, asked.Grey));
        var e = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("big.pgm", Grey(40, 30), new ImageLoadOptions { MaxPixels = 20_000_000 }.Within(ceiling)));
        Assert.Contains("40×30", e.Message);
    }
}
