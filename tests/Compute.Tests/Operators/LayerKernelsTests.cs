using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

/// <summary>
/// The kernels themselves, on every vector width (a width this machine lacks still runs, in software), at shapes the
/// operator never produces: filters larger than the image, and images wide enough for 512-bit blocks plus a ragged edge.
/// </summary>
public class LayerKernelsTests
{
    private const double Tolerance = 1e-5;

    private static readonly (int H, int W, int S)[] Sizes =
    [
        (1, 1, 1), (1, 1, 5), (2, 3, 11), (3, 17, 4), (5, 33, 3), (7, 40, 8), (9, 16, 2), (4, 64, 5), (6, 67, 7),
        (3, 100, 1), (11, 79, 11), (40, 37, 6), (13, 31, 9), (17, 20, 10), (2, 96, 3), (1, 65, 2),
        (3, 301, 4), (5, 257, 2), // several column tiles, the last one ragged
    ];

    /// <summary>Vector width in bits (0: scalar), as a public type xunit can show in a test name.</summary>
    public static TheoryData<int, int, int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, int>();
        int[] widths = [512, 256, 128, 0];
        for (int n = 0; n < Sizes.Length; n++)
            for (int p = 0; p < widths.Length; p++)
                data.Add(widths[p], Sizes[n].H, Sizes[n].W, Sizes[n].S, (n + p) % LayerCases.Layouts);
        return data;
    }

    internal static SimdPath Path(int bits) => TestData.Path(bits);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Synthesize_EveryPath_MatchesNaiveReference(int bits, int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 61);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 62);
        Tensor3 y = TestData.Random(g.Inputs, h, w, seed: 63);
        LayerKernels.Synthesize(z, f, g.ToArray(), y, path: Path(bits));
        TestData.AssertClose(NaiveLayer.Synthesize(z, f, g, h, w).Data, y.Data, Tolerance, $"{Path(bits)} synthesis {h}×{w} s={s}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_EveryPathOnZeroPaddedResidual_MatchesNaiveReference(int bits, int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        Tensor3 r = TestData.Random(g.Inputs, h, w, seed: 64);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 65);
        var padded = new Tensor3(g.Inputs, h + 2 * (s - 1), w + 2 * (s - 1));
        TestData.Fill(padded.Data, seed: 66); // ZeroPad must clear the frame itself
        LayerKernels.ZeroPad(r, padded, s - 1);
        Tensor3 zg = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 67);
        LayerKernels.Adjoint(padded, f, g.ToArray(), zg, path: Path(bits));
        TestData.AssertClose(NaiveLayer.Adjoint(r, f, g).Data, zg.Data, Tolerance, $"{Path(bits)} adjoint {h}×{w} s={s}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_EveryPath_MatchesNaiveReference(int bits, int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 68);
        Tensor3 r = TestData.Random(g.Inputs, h, w, seed: 69);
        FilterBank fg = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 70);
        LayerKernels.FilterGradient(z, r, g.ToArray(), fg, path: Path(bits));
        TestData.AssertClose(NaiveLayer.FilterGradient(z, r, g, s).Data, fg.Data, Tolerance, $"{Path(bits)} filter gradient {h}×{w} s={s}");
    }

    [Theory]
    [InlineData(256, 5)]
    [InlineData(128, 3)]
    [InlineData(0, 6)]
    public void FilterGradient_Accumulate_AddsToDestination(int bits, int s)
    {
        Connectivity g = LayerCases.Layout(4);
        Tensor3 z = TestData.Random(g.Maps, 9 + s - 1, 21 + s - 1, seed: 71);
        Tensor3 r = TestData.Random(g.Inputs, 9, 21, seed: 72);
        FilterBank start = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 73);
        FilterBank fg = start.Clone();
        LayerKernels.FilterGradient(z, r, g.ToArray(), fg, accumulate: true, path: Path(bits));
        FilterBank expected = NaiveLayer.FilterGradient(z, r, g, s);
        for (int i = 0; i < expected.Data.Length; i++) expected.Data[i] += start.Data[i];
        TestData.AssertClose(expected.Data, fg.Data, Tolerance, $"{Path(bits)} accumulated gradient s={s}");
    }

    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    [InlineData(0)]
    public void Adjoint_MapConnectedToNothing_IsZeroed(int bits)
    {
        // Map 1 reconstructs no plane: its adjoint is identically zero, whatever the destination held before.
        var mask = new[] { true, true, false, false, true, false };
        var g = new Connectivity(3, 2, mask);
        Tensor3 r = TestData.Random(2, 6, 70, seed: 74);
        FilterBank f = TestData.RandomFilters(3, 2, 3, seed: 75);
        var padded = new Tensor3(2, 10, 74);
        LayerKernels.ZeroPad(r, padded, 2);
        Tensor3 zg = TestData.Random(3, 8, 72, seed: 76);
        LayerKernels.Adjoint(padded, f, mask, zg, path: Path(bits));
        TestData.AssertClose(NaiveLayer.Adjoint(r, f, g).Data, zg.Data, Tolerance, $"{Path(bits)} adjoint with an idle map");
        Assert.All(zg.Plane(1).ToArray(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    public void Kernels_RowBandsOverThreads_EqualSerialExactly(int degree)
    {
        Connectivity g = LayerCases.Layout(1); // one input plane: synthesis can only split rows
        Tensor3 z = TestData.Random(g.Maps, 23 + 4, 45 + 4, seed: 77);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, 5, seed: 78);
        Tensor3 y1 = new(1, 23, 45), y2 = new(1, 23, 45);
        LayerKernels.Synthesize(z, f, g.ToArray(), y1);
        LayerKernels.Synthesize(z, f, g.ToArray(), y2, degreeOfParallelism: degree);
        Assert.Equal(y1.Data, y2.Data);
    }

    [Fact]
    public void Kernels_AliasedOrMisShapedDestinations_Throw()
    {
        Connectivity g = LayerCases.Layout(2); // K = 2, C = 3
        bool[] mask = g.ToArray();
        FilterBank f = TestData.RandomFilters(2, 3, 3, seed: 79);
        Tensor3 z = TestData.Random(2, 8, 9, seed: 80);
        Assert.Throws<ArgumentException>(() => LayerKernels.Synthesize(z, f, mask, new Tensor3(3, 6, 6)));  // one column short
        Assert.Throws<ArgumentException>(() => LayerKernels.Synthesize(z, f, mask, new Tensor3(2, 6, 7)));  // planes
        Assert.Throws<ArgumentException>(() => LayerKernels.Synthesize(z, f, new bool[5], new Tensor3(3, 6, 7)));
        Assert.Throws<ArgumentException>(() => LayerKernels.Adjoint(new Tensor3(3, 10, 11), f, mask, new Tensor3(2, 8, 8)));
        Assert.Throws<ArgumentException>(() => LayerKernels.FilterGradient(z, new Tensor3(3, 6, 7), mask, new FilterBank(2, 3, 2)));

        // Same length, same array: K·(H+s−1)(W+s−1) = C·(H+2s−2)(W+2s−2) cannot hold here, so alias through s = 1.
        FilterBank one = TestData.RandomFilters(3, 3, 1, seed: 81);
        bool[] full = Connectivity.Full(3, 3).ToArray();
        Tensor3 a = TestData.Random(3, 4, 5, seed: 82);
        Assert.Throws<ArgumentException>(() => LayerKernels.Synthesize(a, one, full, new Tensor3(3, 4, 5, a.Data)));
        Assert.Throws<ArgumentException>(() => LayerKernels.Adjoint(a, one, full, new Tensor3(3, 4, 5, a.Data)));
        Tensor3 b = TestData.Random(1, 1, 1, seed: 83);
        Assert.Throws<ArgumentException>(() => LayerKernels.FilterGradient(b, b, new[] { true }, new FilterBank(1, 1, 1, b.Data)));
        Assert.Throws<ArgumentException>(() => LayerKernels.ZeroPad(a, new Tensor3(3, 4, 5, a.Data), 0));
        Assert.Throws<ArgumentException>(() => LayerKernels.WrapExtend(a, new Tensor3(3, 5, 6), 2));
    }

    [Fact]
    public void WrapExtend_MarginWiderThanImage_RepeatsRowsAndColumns()
    {
        Tensor3 r = TestData.Random(2, 3, 2, seed: 84);
        var extended = new Tensor3(2, 3 + 7, 2 + 7);
        LayerKernels.WrapExtend(r, extended, 7);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < extended.Rows; i++)
                for (int j = 0; j < extended.Cols; j++)
                    Assert.Equal(r[c, i % 3, j % 2], extended[c, i, j]);
    }
}
