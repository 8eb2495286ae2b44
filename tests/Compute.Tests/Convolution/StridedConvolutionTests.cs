using Distributed.Compute.Convolution;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Convolution;

public class StridedConvolutionTests
{
    private const double Tolerance = 1e-5;

    /// <summary>(C, H, W, K, M, N, S, P): strides 1–4, paddings 0–3, rectangular kernels, sizes that just divide.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Cases() => new()
    {
        { 1, 1, 1, 1, 1, 1, 1, 0 },
        { 2, 9, 13, 3, 3, 3, 1, 1 },
        { 3, 17, 9, 2, 5, 3, 2, 0 },
        { 4, 20, 20, 2, 8, 8, 4, 0 },
        { 2, 12, 16, 3, 4, 2, 3, 2 },
        { 1, 7, 7, 4, 3, 5, 2, 3 },
        { 2, 33, 40, 1, 5, 4, 2, 1 },
        { 3, 8, 10, 2, 2, 4, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Convolve_AnyStrideAndPadding_MatchesNaiveReference(int c, int h, int w, int k, int m, int n, int s, int p)
    {
        var g = StridedGeometry.Convolution(c, h, w, k, m, n, s, p);
        float[] x = TestData.RandomArray(g.InputLength, seed: 111), weights = TestData.RandomArray(g.WeightLength, seed: 112);
        float[] y = TestData.RandomArray(g.OutputLength, seed: 113);
        StridedConvolution.Convolve(g, x, weights, y);
        TestData.AssertClose(NaiveConvolution.Strided(c, h, w, k, m, n, s, p, x, weights), y, Tolerance, $"conv {c}×{h}×{w} → {k} {m}×{n}/{s} p{p}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvolveTransposed_AnyStrideAndPadding_IsAdjointOfConvolve(int c, int h, int w, int k, int m, int n, int s, int p)
    {
        var g = StridedGeometry.Convolution(c, h, w, k, m, n, s, p);
        float[] x = TestData.RandomArray(g.InputLength, seed: 114), weights = TestData.RandomArray(g.WeightLength, seed: 115);
        float[] y = new float[g.OutputLength], back = TestData.RandomArray(g.InputLength, seed: 116);
        StridedConvolution.Convolve(g, x, weights, y);
        float[] r = TestData.RandomArray(g.OutputLength, seed: 117);
        for (int i = 0; i < r.Length; i++) r[i] += y[i]; // keeps ⟨A x, r⟩ away from zero
        StridedConvolution.ConvolveTransposed(g, r, weights, back);
        TestData.AssertRelative(TestData.Dot(y, r), TestData.Dot(x, back), Tolerance, $"⟨conv x, r⟩ vs ⟨x, convᵀ r⟩, {m}×{n}/{s} p{p}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Convolve_ParallelDegrees_EqualSerialExactly(int degree)
    {
        var g = StridedGeometry.Convolution(3, 17, 9, 4, 5, 3, 2, 1);
        float[] x = TestData.RandomArray(g.InputLength, seed: 118), weights = TestData.RandomArray(g.WeightLength, seed: 119);
        float[] y1 = new float[g.OutputLength], y2 = new float[g.OutputLength];
        StridedConvolution.Convolve(g, x, weights, y1);
        StridedConvolution.Convolve(g, x, weights, y2, degree);
        Assert.Equal(y1, y2);
        float[] b1 = new float[g.InputLength], b2 = new float[g.InputLength];
        StridedConvolution.ConvolveTransposed(g, y1, weights, b1);
        StridedConvolution.ConvolveTransposed(g, y1, weights, b2, degree);
        Assert.Equal(b1, b2);
    }

    [Fact]
    public void Convolution_DqnLayers_GiveThePaperSizes()
    {
        var conv1 = StridedGeometry.Convolution(4, 84, 84, 16, 8, 8, 4, 0);
        Assert.Equal((20, 20), (conv1.OutputRows, conv1.OutputCols));
        var conv2 = StridedGeometry.Convolution(16, 20, 20, 32, 4, 4, 2, 0);
        Assert.Equal((9, 9), (conv2.OutputRows, conv2.OutputCols));
    }

    [Fact]
    public void Transposed_DcganStack_DoublesEachTimeAndInvertsTheConvolution()
    {
        // 4 → 8 → 16 → 32 → 64 with 4×4 kernels, stride 2, padding 1: S·(J−1) + M − 2P = 2J.
        int size = 4;
        foreach (int planes in new[] { 1024, 512, 256, 128 })
        {
            var g = StridedGeometry.Transposed(planes, size, size, planes / 2, 4, 4, 2, 1);
            Assert.Equal((2 * size, 2 * size), (g.Rows, g.Cols));
            Assert.Equal((size, size), (g.OutputRows, g.OutputCols));
            Assert.Equal((planes / 2, planes), (g.Channels, g.Filters));
            size *= 2;
        }
        Assert.Equal(64, size);
    }

    [Theory]
    [InlineData(10, 3, 2, 0)]  // (10 − 3) is odd: stride 2 does not divide
    [InlineData(4, 7, 1, 1)]   // kernel larger than the padded input
    [InlineData(8, 3, 0, 0)]   // stride 0
    [InlineData(8, 3, 1, -1)]  // negative padding
    [InlineData(0, 1, 1, 0)]   // empty input
    public void Convolution_SizesThatDoNotFit_Throw(int size, int kernel, int stride, int padding)
    {
        Exception e = Assert.ThrowsAny<ArgumentException>(() => StridedGeometry.Convolution(1, size, size, 1, kernel, kernel, stride, padding));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void Transposed_OutputBelowOnePixel_Throws()
    {
        // 1×1 input, 2×2 kernel, padding 1: S·0 + 2 − 2 = 0 pixels.
        Assert.ThrowsAny<ArgumentException>(() => StridedGeometry.Transposed(1, 1, 1, 1, 2, 2, 2, 1));
    }

    [Fact]
    public void Kernels_MisShapedOrAliasedArrays_Throw()
    {
        var g = StridedGeometry.Convolution(2, 9, 13, 3, 3, 3, 1, 1);
        float[] x = new float[g.InputLength], w = new float[g.WeightLength], y = new float[g.OutputLength];
        Assert.Throws<ArgumentException>(() => StridedConvolution.Convolve(g, x, w, new float[g.OutputLength - 1]));
        Assert.Throws<ArgumentException>(() => StridedConvolution.Convolve(g, new float[g.InputLength + 1], w, y));
        Assert.Throws<ArgumentException>(() => StridedConvolution.Convolve(g, x, new float[g.WeightLength - 1], y));
        Assert.Throws<ArgumentException>(() => StridedConvolution.ConvolveTransposed(g, y, w, new float[g.InputLength - 1]));
        // Same geometry in and out (C = K, stride 1, same padding): one array could pose as both.
        var square = StridedGeometry.Convolution(2, 6, 6, 2, 3, 3, 1, 1);
        float[] both = new float[square.InputLength], w2 = new float[square.WeightLength];
        Assert.Throws<ArgumentException>(() => StridedConvolution.Convolve(square, both, w2, both));
        Assert.Throws<ArgumentException>(() => StridedConvolution.ConvolveTransposed(square, both, w2, both));
    }
}
