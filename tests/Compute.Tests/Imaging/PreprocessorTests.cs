using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Xunit.Abstractions;

namespace Distributed.Compute.Tests.Imaging;

public class PreprocessorTests(ITestOutputHelper output)
{
    private static Tensor3 Random(int planes, int rows, int cols, int seed)
    {
        var random = new Random(seed);
        var t = new Tensor3(planes, rows, cols);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)random.NextDouble();
        return t;
    }

    private static Tensor3 SampleGrey(string name) =>
        ImageDecoder.DecodeFile(Path.Combine(TestFiles.Samples, name), new ImageLoadOptions { Grey = true });

    /// <summary>Image k of a [rows, cols, images] anchor array as one plane.</summary>
    private static Tensor3 AnchorImage(NpyArray array, int k)
    {
        int rows = array.Shape[0], cols = array.Shape[1], count = array.Shape[2];
        var t = new Tensor3(1, rows, cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[0, r, c] = array.Data[(r * cols + c) * count + k];
        return t;
    }

    [Fact]
    public void RemovePlaneMeans_RgbImage_LeavesEachPlaneWithZeroMean()
    {
        Tensor3 image = Random(3, 17, 23, seed: 1);
        image.Plane(2).Fill(0.75f);

        Tensor3 result = Preprocessor.RemovePlaneMeans(image);

        for (int p = 0; p < 3; p++) Assert.Equal(0, result.ReadPlane(p).ToArray().Average(v => (double)v), 6);
        Assert.Equal(image[0, 3, 4] - image.ReadPlane(0).ToArray().Average(), result[0, 3, 4], 5);
        Assert.NotEqual(0f, image.Data.Sum()); // the input is untouched
    }

    [Fact]
    public void LocalContrastWeights_AreMatlabsFspecialGaussian5x5Sigma1591()
    {
        double[] g = LocalContrast.Weights();

        // fspecial('gaussian', [5 5], 1.591) is g gᵀ; its centre row, from exp(−(x² + y²) / 2σ²) normalised.
        double total = 0;
        for (int y = -2; y <= 2; y++) for (int x = -2; x <= 2; x++) total += Math.Exp(-(x * x + y * y) / (2 * 1.591 * 1.591));
        for (int x = -2; x <= 2; x++) Assert.Equal(Math.Exp(-(x * x) / (2 * 1.591 * 1.591)) / total, g[2] * g[x + 2], 15);
        Assert.Equal(1, g.Sum(), 15);
    }

    [Fact]
    public void LocalContrastNormalize_RandomImage_MatchesDirect2DFormulaWithSymmetricBorders()
    {
        Tensor3 image = Random(1, 9, 13, seed: 2);
        const double Floor = 0.05;

        Tensor3 result = Preprocessor.LocalContrastNormalize(image, Floor);

        static int Reflect(int i, int n) => i < 0 ? -1 - i : i >= n ? 2 * n - 1 - i : i;
        for (int r = 0; r < 9; r++)
        {
            for (int c = 0; c < 13; c++)
            {
                double weights = 0, mean = 0, squares = 0;
                for (int u = -2; u <= 2; u++)
                {
                    for (int v = -2; v <= 2; v++)
                    {
                        double w = Math.Exp(-(u * u + v * v) / (2 * 1.591 * 1.591));
                        double x = image[0, Reflect(r + u, 9), Reflect(c + v, 13)];
                        weights += w;
                        mean += w * x;
                        squares += w * x * x;
                    }
                }
                mean /= weights;
                double std = Math.Sqrt(Math.Max(squares / weights - mean * mean, 0));
                double expected = (image[0, r, c] - mean) / Math.Max(std, Floor);
                Assert.Equal(expected, result[0, r, c], 5);
            }
        }
    }

    [Theory]
    [InlineData("skimage-astronaut.png")]
    [InlineData("skimage-chelsea.png")]
    [InlineData("libjxl-wesaturate-keong_macan.png")]
    public void LocalContrastNormalize_Photo_HasNearZeroLocalMeanAndUnitScaleContrast(string name)
    {
        Tensor3 image = Preprocessor.RemovePlaneMeans(SampleGrey(name));

        Tensor3 result = Preprocessor.LocalContrastNormalize(image);

        // The output is a high-pass: its mean over 8×8 blocks is small next to its values (measured 0.14–0.19 on these
        // textured 128-pixel photos), where the input's is of the order of its values (0.75–0.97).
        (double outBlocks, double outValues) = BlockMeans(result, 8);
        (double inBlocks, double inValues) = BlockMeans(image, 8);
        output.WriteLine($"{name}: mean |8×8 block mean| / mean |value|: output {outBlocks / outValues:G3}, input {inBlocks / inValues:G3}; mean |output| {outValues:G3}");
        Assert.True(outBlocks < 0.25 * outValues, $"mean |block mean| {outBlocks} vs mean |value| {outValues}");
        Assert.True(outBlocks / outValues < inBlocks / inValues / 3, "LCN did not remove the local mean");
        Assert.InRange(outValues, 0.2, 1.5); // divided by the local std: values of order 1
    }

    private static (double BlockMean, double Value) BlockMeans(Tensor3 t, int size)
    {
        double blocks = 0, values = 0;
        int count = 0;
        for (int r0 = 0; r0 + size <= t.Rows; r0 += size)
        {
            for (int c0 = 0; c0 + size <= t.Cols; c0 += size)
            {
                double sum = 0;
                for (int r = r0; r < r0 + size; r++) for (int c = c0; c < c0 + size; c++) sum += t[0, r, c];
                blocks += Math.Abs(sum / (size * size));
                count++;
            }
        }
        foreach (float v in t.Data) values += Math.Abs(v);
        return (blocks / count, values / t.Length);
    }

    [Fact]
    public void LocalContrastNormalize_LinearRamp_IsZeroAwayFromTheBorder()
    {
        var ramp = new Tensor3(1, 12, 12);
        for (int r = 0; r < 12; r++) for (int c = 0; c < 12; c++) ramp[0, r, c] = 0.3f + 0.01f * r - 0.02f * c;

        Tensor3 result = Preprocessor.LocalContrastNormalize(ramp);

        // A symmetric kernel's local mean of a linear function is the function itself.
        for (int r = 2; r < 10; r++) for (int c = 2; c < 10; c++) Assert.Equal(0f, result[0, r, c], 4);
    }

    [Fact]
    public void LocalContrastNormalize_FaintTexture_IsDividedByTheFloorNotItsOwnStd()
    {
        var faint = new Tensor3(1, 8, 8);
        for (int r = 0; r < 8; r++) for (int c = 0; c < 8; c++) faint[0, r, c] = (r + c) % 2 == 0 ? 0.0005f : -0.0005f;
        var flat = new Tensor3(1, 8, 8);
        flat.Span.Fill(0.4f);

        Tensor3 result = Preprocessor.LocalContrastNormalize(faint);

        // Local std ≈ 0.0005 < 1/255: the output is (x − m) · 255, far below 1, rather than blown up to ±1.
        Assert.All(result.Data, v => Assert.InRange(Math.Abs(v), 0.01f, 0.3f));
        Assert.All(Preprocessor.LocalContrastNormalize(flat).Data, v => Assert.Equal(0f, v, 6));
    }

    [Fact]
    public void Highpass_SporcoAnchorImages_MatchesSporcosTikhonovFilter()
    {
        NpyArray before = NpyFile.Read(Path.Combine(TestFiles.SporcoAnchors, "b128_images_gray_128x128x5.npy"));
        NpyArray after = NpyFile.Read(Path.Combine(TestFiles.SporcoAnchors, "b128_highpass_128x128x5.npy"));
        Assert.Equal([128, 128, 5], before.Shape);

        double worst = 0, scale = 0;
        for (int k = 0; k < 5; k++)
        {
            Tensor3 result = Preprocessor.Highpass(AnchorImage(before, k));
            Tensor3 expected = AnchorImage(after, k);
            for (int i = 0; i < result.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(result.Data[i] - expected.Data[i]));
                scale = Math.Max(scale, Math.Abs(expected.Data[i]));
            }
        }
        // Measured 2.4e-7 (float32 rounding of values up to 0.67).
        output.WriteLine($"max |ours − SPORCO| = {worst:E3} over 5 images (max |high-pass| = {scale:G4})");
        Assert.True(worst < 1e-6, $"max |ours − SPORCO| = {worst}");
    }

    [Fact]
    public void Highpass_ConstantImage_IsZero()
    {
        var flat = new Tensor3(2, 10, 7);
        flat.Span.Fill(0.6f);

        Tensor3 result = Preprocessor.Highpass(flat);

        Assert.All(result.Data, v => Assert.Equal(0f, v, 6));
    }

    [Fact]
    public void TikhonovLowpass_Result_SatisfiesTheNormalEquationsOnThePaddedGrid()
    {
        // With no padding the solved system is the whole problem: check A l = s directly, wrap-around included.
        Tensor3 image = Random(1, 11, 14, seed: 3);
        var low = new float[image.Length];
        const double Lambda = 5;

        TikhonovFilter.Lowpass(image.ReadPlane(0), 11, 14, Lambda, pad: 0, low);

        for (int r = 0; r < 11; r++)
        {
            for (int c = 0; c < 14; c++)
            {
                double Low(int rr, int cc) => low[((rr + 11) % 11) * 14 + (cc + 14) % 14];
                double applied = Low(r, c) + Lambda * (4 * Low(r, c) - Low(r - 1, c) - Low(r + 1, c) - Low(r, c - 1) - Low(r, c + 1));
                Assert.Equal(image[0, r, c], applied, 4);
            }
        }
    }

    [Fact]
    public void RescaleSet_MakesTheLargestMagnitudeOneAndKeepsRatios()
    {
        var a = new Tensor3(1, 2, 2, [0.5f, -4f, 1f, 0f]);
        var b = new Tensor3(1, 1, 3, [2f, 3f, -1f]);

        IReadOnlyList<Tensor3> scaled = Preprocessor.RescaleSet([a, b]);

        Assert.Equal(new[] { 0.125f, -1f, 0.25f, 0f }, scaled[0].Data);
        Assert.Equal(new[] { 0.5f, 0.75f, -0.25f }, scaled[1].Data);
        Assert.Equal(-4f, a.Data[1]); // inputs untouched
        Assert.Equal(0.25f, Preprocessor.RescaleFactor([a, b]));
    }

    [Fact]
    public void RescaleFactor_AllZero_IsOne()
    {
        Assert.Equal(1f, Preprocessor.RescaleFactor([new Tensor3(1, 3, 3)]));
    }

    [Fact]
    public void Apply_Lcn_RescalesTheWholeSetToMaxMagnitudeOne()
    {
        Tensor3[] images = [SampleGrey("skimage-chelsea.png"), SampleGrey("skimage-coffee.png")];

        PreprocessedSet set = Preprocessor.Apply(images, Preprocessing.Lcn);

        float max = set.Images.Max(Preprocessor.MaxAbs);
        Assert.Equal(1f, max, 5);
        Assert.True(set.Scale is > 0 and < 1, $"scale {set.Scale}");
        Tensor3 unscaled = Preprocessor.ApplyToImage(images[1], Preprocessing.Lcn);
        Assert.Equal(unscaled[0, 40, 60] * set.Scale, set.Images[1][0, 40, 60], 6);
    }

    [Fact]
    public void Apply_HighpassAndNone_DoNotRescale()
    {
        Tensor3[] images = [SampleGrey("skimage-chelsea.png")];

        PreprocessedSet high = Preprocessor.Apply(images, Preprocessing.Highpass);
        PreprocessedSet none = Preprocessor.Apply(images, Preprocessing.None);

        Assert.Equal(1f, high.Scale);
        Assert.Equal(Preprocessor.Highpass(images[0]).Data, high.Images[0].Data);
        Assert.Equal(images[0].Data, none.Images[0].Data);
        Assert.NotSame(images[0], none.Images[0]);
    }
}
