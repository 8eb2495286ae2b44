using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Imaging;

public class ImageDecoderTests
{
    public static TheoryData<string> Samples => new(TestFiles.SampleNames);

    [Theory]
    [MemberData(nameof(Samples))]
    public void DecodeFile_Sample_GivesRgbPlanesOfTheHeaderSizeInUnitRange(string name)
    {
        string path = Path.Combine(TestFiles.Samples, name);
        byte[] bytes = File.ReadAllBytes(path);
        int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
        int height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];

        Tensor3 image = ImageDecoder.DecodeFile(path);

        Assert.Equal((3, height, width), (image.Planes, image.Rows, image.Cols));
        Assert.Equal(128, Math.Max(width, height));
        Assert.All(image.Data, v => Assert.InRange(v, 0f, 1f));
        Assert.True(image.Data.Max() - image.Data.Min() > 0.5f, $"{name}: range {image.Data.Min()}..{image.Data.Max()} looks flat");
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void DecodeFile_SampleAsGrey_GivesRec601LumaOfTheRgbPlanes(string name)
    {
        string path = Path.Combine(TestFiles.Samples, name);
        Tensor3 rgb = ImageDecoder.DecodeFile(path);

        Tensor3 grey = ImageDecoder.DecodeFile(path, new ImageLoadOptions { Grey = true });

        Assert.Equal((1, rgb.Rows, rgb.Cols), (grey.Planes, grey.Rows, grey.Cols));
        for (int i = 0; i < grey.Length; i++)
        {
            float expected = 0.299f * rgb.Data[i] + 0.587f * rgb.Data[rgb.PlaneLength + i] + 0.114f * rgb.Data[2 * rgb.PlaneLength + i];
            Assert.Equal(expected, grey.Data[i], 1e-6f);
        }
    }

    [Fact]
    public void Decode_Pgm8BitWithComment_GivesSamplesOverMaxval()
    {
        byte[] pgm = TestFiles.Netpbm('5', 3, 2, 255, [0, 1, 2, 128, 254, 255]);

        Tensor3 image = ImageDecoder.Decode("a.pgm", pgm);

        Assert.Equal((1, 2, 3), (image.Planes, image.Rows, image.Cols));
        Assert.Equal(new[] { 0f, 1 / 255f, 2 / 255f, 128 / 255f, 254 / 255f, 1f }, image.Data);
    }

    [Fact]
    public void Decode_Pgm16Bit_KeepsSixteenBitPrecision()
    {
        byte[] pgm = TestFiles.Netpbm('5', 2, 2, 65535, [0, 1, 32768, 65535]);

        Tensor3 image = ImageDecoder.Decode("a.pgm", pgm);

        Assert.Equal(new[] { 0f, 1 / 65535f, 32768 / 65535f, 1f }, image.Data);
    }

    [Fact]
    public void Decode_Pgm16BitWithMaxval1000_DividesByMaxval()
    {
        byte[] pgm = TestFiles.Netpbm('5', 2, 1, 1000, [250, 1000]);

        Tensor3 image = ImageDecoder.Decode("a.pgm", pgm);

        Assert.Equal(new[] { 0.25f, 1f }, image.Data);
    }

    [Fact]
    public void Decode_Ppm8Bit_SplitsInterleavedSamplesIntoRgbPlanes()
    {
        // 2×1 pixels: (10, 20, 30), (40, 50, 60) with maxval 100.
        byte[] ppm = TestFiles.Netpbm('6', 2, 1, 100, [10, 20, 30, 40, 50, 60]);

        Tensor3 image = ImageDecoder.Decode("a.ppm", ppm);

        Assert.Equal((3, 1, 2), (image.Planes, image.Rows, image.Cols));
        Assert.Equal(new[] { 0.1f, 0.4f, 0.2f, 0.5f, 0.3f, 0.6f }, image.Data);
    }

    [Fact]
    public void Decode_Ppm16BitAsGrey_GivesLuma()
    {
        byte[] ppm = TestFiles.Netpbm('6', 1, 1, 65535, [65535, 0, 0]);

        Tensor3 image = ImageDecoder.Decode("a.ppm", ppm, new ImageLoadOptions { Grey = true });

        Assert.Equal(1, image.Planes);
        Assert.Equal(0.299f, image.Data[0], 1e-6f);
    }

    [Fact]
    public void Decode_PpmAsset_MatchesTheSamePixelsDecodedFromPng()
    {
        Tensor3 ppm = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.ppm"));
        Tensor3 png = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Samples, "skimage-coffee.png"));

        Assert.Equal((3, 30, 40), (ppm.Planes, ppm.Rows, ppm.Cols));
        for (int p = 0; p < 3; p++)
            for (int r = 0; r < 30; r++)
                for (int c = 0; c < 40; c++)
                    Assert.Equal(png[p, r + 20, c + 40], ppm[p, r, c]);
    }

    [Theory]
    [InlineData("coffee-crop-40x30.jpg")]
    [InlineData("coffee-crop-40x30-progressive.jpg")]
    public void DecodeFile_Jpeg_IsCloseToTheLosslessOriginal(string name)
    {
        Tensor3 original = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.ppm"));

        Tensor3 jpeg = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Assets, name));

        Assert.True(jpeg.SameShape(original), $"shape {jpeg} vs {original}");
        double meanError = original.Data.Zip(jpeg.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 0.03, $"mean |jpeg − original| = {meanError}");
    }

    [Fact]
    public void DecodeFile_GreyJpeg_GivesOnePlaneCloseToTheOriginalsLuma()
    {
        Tensor3 luma = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.ppm"), new ImageLoadOptions { Grey = true });

        Tensor3 jpeg = ImageDecoder.DecodeFile(Path.Combine(TestFiles.Assets, "coffee-crop-40x30-grey.jpg"));

        Assert.Equal((1, 30, 40), (jpeg.Planes, jpeg.Rows, jpeg.Cols));
        double meanError = luma.Data.Zip(jpeg.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 0.03, $"mean |jpeg − luma| = {meanError}");
    }

    [Fact]
    public void Decode_GreyPng_GivesOnePlane()
    {
        byte[] png = TestFiles.Png(3, 1, colorType: 0, bitDepth: 8, [0, 51, 255]);

        Tensor3 image = ImageDecoder.Decode("g.png", png);

        Assert.Equal(new[] { 0f, 0.2f, 1f }, image.Data);
        Assert.Equal(1, image.Planes);
    }

    [Fact]
    public void Decode_RgbaPng_DropsAlpha()
    {
        byte[] png = TestFiles.Png(2, 1, colorType: 6, bitDepth: 8, [255, 0, 51, 0, 0, 255, 102, 128]);

        Tensor3 image = ImageDecoder.Decode("rgba.png", png);

        Assert.Equal((3, 1, 2), (image.Planes, image.Rows, image.Cols));
        Assert.Equal(new[] { 1f, 0f, 0f, 1f, 0.2f, 0.4f }, image.Data);
    }

    [Fact]
    public void Decode_GreyAlphaPng_DropsAlphaAndStaysGrey()
    {
        byte[] png = TestFiles.Png(2, 1, colorType: 4, bitDepth: 8, [51, 0, 204, 255]);

        Tensor3 image = ImageDecoder.Decode("ga.png", png);

        Assert.Equal(new[] { 0.2f, 0.8f }, image.Data);
    }

    [Fact]
    public void Decode_16BitPng_KeepsTheHighByte()
    {
        byte[] png = TestFiles.Png(2, 1, colorType: 0, bitDepth: 16, [0x3300, 0xFFFF]);

        Tensor3 image = ImageDecoder.Decode("w.png", png);

        Assert.Equal(new[] { 0.2f, 1f }, image.Data);
    }

    [Fact]
    public void PngCrc_OfIendChunkType_IsTheWellKnownValue()
    {
        Assert.Equal(0xAE426082u, PngStructure.Crc("IEND"u8));
    }

    // ---- failures: each is an ImageLoadException whose message starts with the file's name ----

    [Fact]
    public void DecodeFile_ZeroByteFile_ThrowsNamingFileAndProblem()
    {
        using var folder = new TestFiles.TempFolder();
        string path = folder.Write("empty.png", []);

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.DecodeFile(path));

        Assert.Equal($"{path}: zero-byte file", ex.Message);
        Assert.Equal(path, ex.SourceName);
    }

    [Fact]
    public void DecodeFile_MissingFile_ThrowsFileNotFound()
    {
        using var folder = new TestFiles.TempFolder();
        string path = Path.Combine(folder.Path, "nope.png");

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.DecodeFile(path));

        Assert.Equal($"{path}: file not found", ex.Message);
    }

    [Fact]
    public void DecodeFile_TextFileNamedPng_ThrowsNotAnImage()
    {
        using var folder = new TestFiles.TempFolder();
        string path = folder.Write("notes.png", "hello, world\n"u8.ToArray());

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.DecodeFile(path));

        Assert.StartsWith($"{path}: not a PNG, JPEG or binary PGM/PPM image", ex.Message);
        Assert.Contains("looks like text", ex.Message);
    }

    [Fact]
    public void DecodeFile_FileOverByteLimit_ThrowsBeforeReading()
    {
        using var folder = new TestFiles.TempFolder();
        string path = folder.Write("big.pgm", TestFiles.Netpbm('5', 20, 10, 255, new int[200]));

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.DecodeFile(path, new ImageLoadOptions { MaxFileBytes = 100 }));

        Assert.Equal($"{path}: file is 230 bytes, limit 100 bytes", ex.Message);
    }

    [Fact]
    public void Decode_PgmOverPixelLimit_ThrowsWithMegapixels()
    {
        byte[] header = System.Text.Encoding.ASCII.GetBytes("P5\n20000 20000\n255\n");

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("photos/x.pgm", header));

        Assert.Equal("photos/x.pgm: 20000×20000 is 400 megapixels, limit 16", ex.Message);
    }

    [Fact]
    public void Decode_PngOverPixelLimit_ThrowsBeforeDecoding()
    {
        byte[] png = TestFiles.Png(100, 50, colorType: 0, bitDepth: 8, new int[5000]);

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("photos/x.png", png, new ImageLoadOptions { MaxPixels = 4000 }));

        Assert.Equal("photos/x.png: 100×50 is 0.005 megapixels, limit 0.004", ex.Message);
    }

    [Fact]
    public void Decode_JpegOverPixelLimit_Throws()
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.jpg"));

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("c.jpg", jpeg, new ImageLoadOptions { MaxPixels = 1000 }));

        Assert.Equal("c.jpg: 40×30 is 0.0012 megapixels, limit 0.001", ex.Message);
    }

    [Fact]
    public void Decode_TruncatedPgm_ThrowsTruncated()
    {
        byte[] pgm = TestFiles.Netpbm('5', 4, 4, 255, new int[16])[..^3];

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("t.pgm", pgm));

        Assert.Equal("t.pgm: truncated PGM (13 of 16 pixel data bytes)", ex.Message);
    }

    [Fact]
    public void Decode_Truncated16BitPpm_ThrowsTruncated()
    {
        byte[] ppm = TestFiles.Netpbm('6', 2, 2, 4095, new int[12])[..^1];

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("t.ppm", ppm));

        Assert.Equal("t.ppm: truncated PPM (23 of 24 pixel data bytes)", ex.Message);
    }

    [Fact]
    public void Decode_PgmHeaderOnly_ThrowsTruncated()
    {
        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("h.pgm", "P5\n4 4\n"u8.ToArray()));

        Assert.Equal("h.pgm: truncated PGM header (ends before the maxval)", ex.Message);
    }

    [Fact]
    public void Decode_PgmSampleAboveMaxval_ThrowsCorrupt()
    {
        byte[] pgm = TestFiles.Netpbm('5', 2, 2, 100, [0, 100, 101, 0]);

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("m.pgm", pgm));

        Assert.Equal("m.pgm: corrupt PGM (sample 101 at row 1, column 0 exceeds maxval 100)", ex.Message);
    }

    [Fact]
    public void Decode_PlainTextPgm_ThrowsNotSupported()
    {
        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("p.pgm", "P2\n1 1\n255\n7\n"u8.ToArray()));

        Assert.Equal("p.pgm: plain-text PGM (P2) is not supported; convert it to binary (P5)", ex.Message);
    }

    [Fact]
    public void Decode_TruncatedPng_ThrowsTruncated()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(TestFiles.Samples, "skimage-coffee.png"));

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("cut.png", png[..(png.Length / 2)]));

        Assert.StartsWith("cut.png: truncated PNG", ex.Message);
    }

    [Fact]
    public void Decode_PngWithFlippedPixelByte_ThrowsCrcMismatch()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(TestFiles.Samples, "skimage-coffee.png"));
        png[TestFiles.IdatDataOffset(png) + 100] ^= 0x20;

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("flip.png", png));

        Assert.StartsWith("flip.png: corrupt PNG (CRC mismatch in chunk 'IDAT'", ex.Message);
    }

    [Fact]
    public void Decode_PngWithBadCompressedDataAndValidCrc_WrapsTheDecoderError()
    {
        byte[] png = TestFiles.Png(8, 8, colorType: 0, bitDepth: 8, Enumerable.Range(0, 64).ToArray());
        int idat = TestFiles.IdatDataOffset(png);
        png[idat] = 0x00; // zlib header CMF: compression method 0 is invalid
        TestFiles.FixPngCrcs(png);

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("z.png", png));

        Assert.StartsWith("z.png: corrupt PNG (", ex.Message);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void Decode_TruncatedJpeg_ThrowsTruncated()
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.jpg"));

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("cut.jpg", jpeg[..(jpeg.Length - 200)]));

        Assert.Equal("cut.jpg: truncated JPEG (the file ends inside the compressed data)", ex.Message);
    }

    [Fact]
    public void Decode_JpegWithoutEndMarker_ThrowsTruncated()
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestFiles.Assets, "coffee-crop-40x30-progressive.jpg"));

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("noeoi.jpg", jpeg[..^2]));

        Assert.StartsWith("noeoi.jpg: truncated JPEG", ex.Message);
    }

    [Fact]
    public void Decode_JpegWithTrailingBytesAfterEnd_Decodes()
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.jpg"));

        Tensor3 image = ImageDecoder.Decode("tail.jpg", [.. jpeg, 0, 1, 2, 3]);

        Assert.Equal((3, 30, 40), (image.Planes, image.Rows, image.Cols));
    }

    [Fact]
    public void Decode_JpegWithDamagedMarker_ThrowsCorrupt()
    {
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestFiles.Assets, "coffee-crop-40x30.jpg"));
        jpeg[2] = 0x12; // the APP0 marker's 0xFF

        var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("m.jpg", jpeg));

        Assert.StartsWith("m.jpg: ", ex.Message);
    }

    /// <summary>Random damage never crashes the decoder: every outcome is an image or an ImageLoadException.</summary>
    [Theory]
    [InlineData("coffee-crop-40x30.jpg")]
    [InlineData("coffee-crop-40x30-progressive.jpg")]
    [InlineData("coffee-crop-40x30-grey.jpg")]
    [InlineData("coffee-crop-40x30.ppm")]
    public void Decode_RandomlyDamagedOrCutFile_ThrowsOnlyImageLoadException(string asset)
    {
        byte[] original = File.ReadAllBytes(Path.Combine(TestFiles.Assets, asset));
        var random = new Random(20260101);
        int failures = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] damaged = (byte[])original.Clone();
            if (trial % 3 == 0) damaged = damaged[..random.Next(1, damaged.Length)];
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++) damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            try
            {
                ImageDecoder.Decode(asset, damaged);
            }
            catch (ImageLoadException ex)
            {
                Assert.StartsWith(asset + ": ", ex.Message);
                failures++;
            }
        }
        Assert.True(failures > 0, "no damaged file was refused");
    }

    [Fact]
    public void Decode_EveryPrefixOfAPng_ThrowsOnlyImageLoadException()
    {
        byte[] png = TestFiles.Png(5, 4, colorType: 2, bitDepth: 8, Enumerable.Range(0, 60).Select(i => i * 4).ToArray());
        for (int length = 1; length < png.Length; length++)
        {
            var ex = Assert.Throws<ImageLoadException>(() => ImageDecoder.Decode("p.png", png[..length]));
            Assert.StartsWith("p.png: ", ex.Message);
        }
        Assert.Equal(3, ImageDecoder.Decode("p.png", png).Planes);
    }
}
