using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

public class GramKernelsTests
{
    public static TheoryData<int, int, int, int> Cases() => LayerCases.All();

    public static TheoryData<int, int, int, int> GramCases() => LayerCases.Gram();

    [Theory]
    [MemberData(nameof(GramCases))]
    public void AccumulateGram_AwkwardSizes_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        var normal = new FilterNormalEquations(g, s);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 21);
        double[] expected = NaiveLayer.Gram(z, h, w, s, normal.Pairs);
        var gram = new float[expected.Length];
        GramKernels.AccumulateGram(z, h, w, s, normal.Pairs, gram);
        TestData.AssertClose(Array.ConvertAll(expected, x => (float)x), gram, 1e-5, $"gram {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(GramCases))]
    public void SparseAccumulateGram_SparseMapsAnySize_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        var normal = new FilterNormalEquations(g, s);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 26);
        var rng = new Random(27);
        for (int i = 0; i < z.Length; i++)
            if (rng.NextDouble() > 0.15) z.Data[i] = 0;   // about 15 % nonzero, interior and border alike
        double[] expected = NaiveLayer.Gram(z, h, w, s, normal.Pairs);
        var gram = new float[expected.Length];
        var sparse = new SparseMaps();
        sparse.Gather(z);
        SparseGramKernels.AccumulateGram(sparse, h, w, s, PairIndex(g.Maps, normal.Pairs), gram);
        SparseGramKernels.AccumulateGram(sparse, h, w, s, PairIndex(g.Maps, normal.Pairs), gram);
        TestData.AssertClose(Array.ConvertAll(expected, x => (float)(2 * x)), gram, 1e-5, $"sparse gram twice, {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [InlineData(96, 80, 5, 4)]
    [InlineData(64, 64, 8, 1)]
    public void SparseAccumulateGram_ThreadsSplitTheMaps_SameBitsAsOneThread(int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        var normal = new FilterNormalEquations(g, s);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 28);
        var rng = new Random(29);
        for (int i = 0; i < z.Length; i++)
            if (rng.NextDouble() > 0.3) z.Data[i] = 0;   // dense enough that the products pass the parallel threshold
        var sparse = new SparseMaps();
        sparse.Gather(z);
        int[] pairIndex = PairIndex(g.Maps, normal.Pairs);
        var one = new float[normal.Gram.Length];
        var three = new float[normal.Gram.Length];
        SparseGramKernels.AccumulateGram(sparse, h, w, s, pairIndex, one, degreeOfParallelism: 1);
        SparseGramKernels.AccumulateGram(sparse, h, w, s, pairIndex, three, degreeOfParallelism: 3);
        Assert.Contains(one, v => v != 0);
        TestData.AssertSameBits(one, three, $"sparse gram on 3 threads, {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [InlineData(5, 5, 3, 3)]   // the smallest torus for 3×3 filters: no lag may wrap onto another
    [InlineData(15, 16, 8, 1)]
    [InlineData(17, 11, 5, 4)]
    [InlineData(9, 13, 3, 2)]
    [InlineData(7, 7, 1, 0)]
    public void TorusStencil_TwoCircularImagesSpreadOnce_MatchesNaiveReferenceOnWrapPaddedMaps(int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        var normal = new FilterNormalEquations(g, s);
        int[] pairIndex = PairIndex(g.Maps, normal.Pairs);
        var expected = new double[normal.Gram.Length];
        var stencil = new double[SparseGramKernels.StencilLength(g.Maps, s)];
        for (int n = 0; n < 2; n++)
        {
            Tensor3 z = TestData.Random(g.Maps, h, w, seed: 28 + n);
            var rng = new Random(30 + n);
            for (int i = 0; i < z.Length; i++)
                if (rng.NextDouble() > 0.2) z.Data[i] = 0;
            // The circular A is the valid one of the wrap-padded maps (LayerOperator's own definition of circular).
            var padded = new Tensor3(g.Maps, h + s - 1, w + s - 1);
            LayerOperator.WrapPad(z, padded, s - 1);
            double[] one = NaiveLayer.Gram(padded, h, w, s, normal.Pairs);
            for (int i = 0; i < expected.Length; i++) expected[i] += one[i];
            var sparse = new SparseMaps();
            sparse.Gather(z);
            SparseGramKernels.AccumulateTorusStencil(sparse, s, stencil);
        }
        var gram = new float[expected.Length];
        SparseGramKernels.SpreadStencil(stencil, g.Maps, s, pairIndex, gram);
        TestData.AssertClose(Array.ConvertAll(expected, x => (float)x), gram, 1e-5, $"torus stencil, {h}×{w} s={s} layout {layout}");
    }

    [Fact]
    public void TorusStencil_MapsSmallerThanTheLags_Throws()
    {
        var sparse = new SparseMaps();
        sparse.Gather(TestData.Random(2, 6, 9, seed: 31));

        Assert.Throws<ArgumentException>(() => SparseGramKernels.AccumulateTorusStencil(sparse, 4, new double[SparseGramKernels.StencilLength(2, 4)]));
    }

    private static int[] PairIndex(int maps, IReadOnlyList<(int K1, int K2)> pairs)
    {
        var index = Enumerable.Repeat(-1, maps * maps).ToArray();
        for (int p = 0; p < pairs.Count; p++) index[pairs[p].K1 * maps + pairs[p].K2] = index[pairs[p].K2 * maps + pairs[p].K1] = p;
        return index;
    }

    /// <summary>Every Gram shape at every width (the lag rows are w + nv − 1 long: 1 to 46, mostly ragged).</summary>
    public static TheoryData<int, int, int, int, int> GramWidthCases()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (int bits in TestData.Widths)
            foreach (var row in LayerCases.Gram())
                data.Add(bits, (int)row[0], (int)row[1], (int)row[2], (int)row[3]);
        return data;
    }

    [Theory]
    [MemberData(nameof(GramWidthCases))]
    public void AccumulateGram_EveryPath_SameBitsAsScalarAndCloseToNaive(int bits, int h, int w, int s, int layout)
    {
        // Products of two floats are exact in double and every lane rounds its sum once, as the scalar loop does: the
        // width may change no bit. The scalar path itself is held to the naive reference.
        Connectivity g = LayerCases.Layout(layout);
        var normal = new FilterNormalEquations(g, s);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 28);
        var start = TestData.RandomArray(normal.Pairs.Count * s * s * s * s, seed: 29);   // accumulates onto what is there
        float[] scalar = (float[])start.Clone(), vector = (float[])start.Clone();
        GramKernels.AccumulateGram(z, h, w, s, normal.Pairs, scalar, path: SimdPath.Scalar);
        GramKernels.AccumulateGram(z, h, w, s, normal.Pairs, vector, path: TestData.Path(bits));
        TestData.AssertSameBits(scalar, vector, $"{TestData.Path(bits)} gram {h}×{w} s={s} layout {layout}");
        double[] naive = NaiveLayer.Gram(z, h, w, s, normal.Pairs);
        for (int i = 0; i < naive.Length; i++) naive[i] += start[i];
        TestData.AssertClose(Array.ConvertAll(naive, x => (float)x), scalar, 1e-5, $"scalar gram {h}×{w} s={s} layout {layout}");
    }

    public static TheoryData<int, int> WidthsByLength() => TestData.WidthsByLength();

    [Theory]
    [MemberData(nameof(WidthsByLength))]
    public void AddProducts_EveryPathAnyLength_SameBitsAsExactProductSum(int bits, int n)
    {
        float[] x = TestData.RandomArray(n, seed: 30 + n), y = TestData.RandomArray(n, seed: 31 + n);
        var acc = new double[n];
        for (int i = 0; i < n; i++) acc[i] = Math.ScaleB(x[i] - 0.5, -i % 7);   // sums of varied magnitude, so rounding happens
        var expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = acc[i] + (double)x[i] * y[i];
        using GuardedBuffer xs = GuardedBuffer.Of(x), ys = GuardedBuffer.Of(y);   // a lane past the end faults
        GramKernels.AddProducts(xs.Span, ys.Span, acc, TestData.Path(bits));
        TestData.AssertSameBits(expected, acc, $"{TestData.Path(bits)} products of {n}");
    }

    [Fact]
    public void AccumulateGram_CalledTwice_AddsToDestination()
    {
        Connectivity g = LayerCases.Layout(3);
        var normal = new FilterNormalEquations(g, 4);
        Tensor3 z = TestData.Random(g.Maps, 13 + 3, 10 + 3, seed: 22);
        double[] once = NaiveLayer.Gram(z, 13, 10, 4, normal.Pairs);
        var gram = new float[once.Length];
        GramKernels.AccumulateGram(z, 13, 10, 4, normal.Pairs, gram);
        GramKernels.AccumulateGram(z, 13, 10, 4, normal.Pairs, gram);
        TestData.AssertClose(Array.ConvertAll(once, x => (float)(2 * x)), gram, 1e-5, "gram accumulated twice");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AccumulateRightHandSide_AwkwardSizes_AddsFilterGradientOfInput(int h, int w, int s, int layout)
    {
        Connectivity g = LayerCases.Layout(layout);
        Tensor3 z = TestData.Random(g.Maps, h + s - 1, w + s - 1, seed: 23);
        Tensor3 y = TestData.Random(g.Inputs, h, w, seed: 24);
        FilterBank expected = NaiveLayer.FilterGradient(z, y, g, s);
        FilterBank b = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 25);
        FilterBank start = b.Clone();
        GramKernels.AccumulateRightHandSide(z, y, g.ToArray(), b);
        for (int i = 0; i < expected.Data.Length; i++) expected.Data[i] += start.Data[i];
        TestData.AssertClose(expected.Data, b.Data, 1e-5, $"b {h}×{w} s={s} layout {layout}");
    }
}
