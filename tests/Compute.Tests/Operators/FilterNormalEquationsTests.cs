using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

public class FilterNormalEquationsTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<Boundary, int, int, int, int> Cases() => new()
    {
        { Boundary.Valid, 9, 13, 3, 3 },
        { Boundary.Valid, 17, 11, 5, 4 },
        { Boundary.Valid, 8, 8, 8, 1 },
        { Boundary.Valid, 6, 21, 1, 2 },
        { Boundary.Circular, 9, 13, 3, 3 },
        { Boundary.Circular, 17, 11, 5, 4 },
        { Boundary.Circular, 11, 10, 7, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_MinusB_EqualsFilterGradientOfResidual(Boundary boundary, int h, int w, int s, int layout)
    {
        var (op, images, maps) = Images(boundary, h, w, s, layout, count: 3, seed: 51);
        var normal = new FilterNormalEquations(op.Connectivity, s);
        for (int n = 0; n < images.Length; n++) normal.Accumulate(op, maps[n], images[n]);
        FilterBank f = TestData.RandomFilters(op.Geometry.Maps, op.Geometry.Inputs, s, seed: 52);

        var af = op.Geometry.NewFilters();
        normal.Apply(f, af);
        var gradient = new double[af.Data.Length];
        for (int i = 0; i < gradient.Length; i++) gradient[i] = (double)af.Data[i] - normal.B.Data[i];

        var expected = new double[gradient.Length];
        Tensor3 residual = op.Geometry.NewImage();
        FilterBank part = op.Geometry.NewFilters();
        for (int n = 0; n < images.Length; n++)
        {
            op.Synthesize(maps[n], f, residual);
            for (int i = 0; i < residual.Length; i++) residual.Data[i] -= images[n].Data[i];
            op.FilterGradient(maps[n], residual, part);
            for (int i = 0; i < expected.Length; i++) expected[i] += part.Data[i];
        }
        TestData.AssertClose(Array.ConvertAll(expected, x => (float)x), Array.ConvertAll(gradient, x => (float)x), Tolerance,
            $"A f − b vs Σ ∇_f ½‖F f − y‖², {boundary} {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataTerm_AnyFilters_EqualsHalfSquaredResidualComputedDirectly(Boundary boundary, int h, int w, int s, int layout)
    {
        var (op, images, maps) = Images(boundary, h, w, s, layout, count: 2, seed: 53);
        var normal = new FilterNormalEquations(op.Connectivity, s);
        for (int n = 0; n < images.Length; n++) normal.Accumulate(op, maps[n], images[n]);
        FilterBank f = TestData.RandomFilters(op.Geometry.Maps, op.Geometry.Inputs, s, seed: 54);

        double direct = 0;
        Tensor3 yhat = op.Geometry.NewImage();
        for (int n = 0; n < images.Length; n++)
        {
            op.Synthesize(maps[n], f, yhat);
            for (int i = 0; i < yhat.Length; i++)
            {
                double d = (double)yhat.Data[i] - images[n].Data[i];
                direct += 0.5 * d * d;
            }
        }
        TestData.AssertRelative(direct, normal.DataTerm(f), Tolerance, $"data term, {boundary} {h}×{w} s={s} layout {layout}");
        Assert.Equal(images.Length, normal.Images);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Add_SingleImageStatistics_EqualsAccumulatingAllImages(Boundary boundary, int h, int w, int s, int layout)
    {
        var (op, images, maps) = Images(boundary, h, w, s, layout, count: 3, seed: 55);
        var together = new FilterNormalEquations(op.Connectivity, s);
        var summed = new FilterNormalEquations(op.Connectivity, s);
        var gramSum = new double[together.Gram.Length];
        var bSum = new double[together.B.Data.Length];
        double squares = 0;
        for (int n = 0; n < images.Length; n++)
        {
            together.Accumulate(op, maps[n], images[n]);
            var single = new FilterNormalEquations(op.Connectivity, s);
            single.Accumulate(op, maps[n], images[n]);
            summed.Add(single);
            for (int i = 0; i < gramSum.Length; i++) gramSum[i] += single.Gram[i];
            for (int i = 0; i < bSum.Length; i++) bSum[i] += single.B.Data[i];
            squares += single.SumSquaredInputs;
        }
        // The same float additions in the same order: the sums agree to the bit.
        Assert.Equal(together.Gram, summed.Gram);
        Assert.Equal(together.B.Data, summed.B.Data);
        Assert.Equal(together.SumSquaredInputs, summed.SumSquaredInputs);
        Assert.Equal(images.Length, summed.Images);
        // And they are the sums of the single-image statistics.
        TestData.AssertClose(Array.ConvertAll(gramSum, x => (float)x), summed.Gram, Tolerance, "Σ A");
        TestData.AssertClose(Array.ConvertAll(bSum, x => (float)x), summed.B.Data, Tolerance, "Σ b");
        TestData.AssertRelative(squares, summed.SumSquaredInputs, 1e-12, "Σ ‖y‖²");
    }

    [Theory]
    [InlineData(Boundary.Valid, 9, 13, 3, 3)]
    [InlineData(Boundary.Circular, 9, 13, 3, 3)]
    [InlineData(Boundary.Circular, 17, 11, 5, 4)]
    public void AddPrepared_SparseImages_EqualsAccumulate(Boundary boundary, int h, int w, int s, int layout)
    {
        // Circular images go through the lag stencil, spread into A when A is next read: after each image and at the end.
        var (op, images, maps) = Images(boundary, h, w, s, layout, count: 3, seed: 58);
        var accumulated = new FilterNormalEquations(op.Connectivity, s);
        var prepared = new FilterNormalEquations(op.Connectivity, s);
        for (int n = 0; n < images.Length; n++)
        {
            var rng = new Random(59 + n);
            for (int i = 0; i < maps[n].Length; i++)
                if (rng.NextDouble() > 0.1) maps[n].Data[i] = 0;
            accumulated.Accumulate(op, maps[n], images[n]);
            prepared.Add(FilterNormalEquations.TryPrepare(op, maps[n], images[n])!);
            if (n == 0) TestData.AssertClose(accumulated.Gram, prepared.Gram, Tolerance, "A after the first image");
        }
        FilterBank f = TestData.RandomFilters(op.Geometry.Maps, op.Geometry.Inputs, s, seed: 60);
        FilterBank expected = op.Geometry.NewFilters(), actual = op.Geometry.NewFilters();
        accumulated.Apply(f, expected);
        prepared.Apply(f, actual);

        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"A f, {boundary} {h}×{w} s={s}");
        TestData.AssertClose(accumulated.Gram, prepared.Gram, Tolerance, "A");
        TestData.AssertClose(accumulated.B.Data, prepared.B.Data, Tolerance, "b");
        Assert.Equal(images.Length, prepared.Images);
    }

    [Fact]
    public void Clone_PendingCircularImages_CopiesTheSpreadStatistics()
    {
        var (op, images, maps) = Images(Boundary.Circular, 11, 12, 3, 2, count: 1, seed: 61);
        for (int i = 0; i < maps[0].Length; i++)
            if (i % 10 != 0) maps[0].Data[i] = 0;
        var normal = new FilterNormalEquations(op.Connectivity, 3);
        normal.Add(FilterNormalEquations.TryPrepare(op, maps[0], images[0])!);

        FilterNormalEquations copy = normal.Clone();
        normal.Decay(0.5);

        Assert.Contains(copy.Gram, x => x != 0);
        Assert.Equal(Array.ConvertAll(copy.Gram, x => x * 0.5f), normal.Gram);
        Assert.Equal(copy.SumSquaredInputs * 0.5, normal.SumSquaredInputs);
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Accumulate_ParallelOperator_EqualsSerialExactly(Boundary boundary)
    {
        var (op, images, maps) = Images(boundary, 14, 12, 4, 4, count: 2, seed: 56);
        var parallel = new LayerOperator(op.Geometry, op.Connectivity, degreeOfParallelism: 3);
        var a = new FilterNormalEquations(op.Connectivity, 4);
        var b = new FilterNormalEquations(op.Connectivity, 4);
        for (int n = 0; n < images.Length; n++)
        {
            a.Accumulate(op, maps[n], images[n]);
            b.Accumulate(parallel, maps[n], images[n]);
        }
        Assert.Equal(a.Gram, b.Gram);
        Assert.Equal(a.B.Data, b.B.Data);
    }

    [Fact]
    public void Gram_ValidBoundary_MatchesNaiveReferenceThroughAccumulate()
    {
        var (op, images, maps) = Images(Boundary.Valid, 10, 7, 3, 3, count: 1, seed: 57);
        var normal = new FilterNormalEquations(op.Connectivity, 3);
        normal.Accumulate(op, maps[0], images[0]);
        double[] expected = NaiveLayer.Gram(maps[0], 10, 7, 3, normal.Pairs);
        TestData.AssertClose(Array.ConvertAll(expected, x => (float)x), normal.Gram, Tolerance, "A of one image");
        Assert.Equal((long)normal.Pairs.Count * 81 * sizeof(float), normal.GramBytes);
    }

    private static (LayerOperator Op, Tensor3[] Images, Tensor3[] Maps) Images(Boundary boundary, int h, int w, int s, int layout, int count, int seed)
    {
        Connectivity g = LayerCases.Layout(layout);
        var op = new LayerOperator(new LayerGeometry(g.Inputs, g.Maps, s, h, w, boundary), g);
        var images = new Tensor3[count];
        var maps = new Tensor3[count];
        for (int n = 0; n < count; n++)
        {
            images[n] = TestData.Random(g.Inputs, h, w, seed + 10 * n);
            maps[n] = TestData.Random(g.Maps, op.Geometry.MapRows, op.Geometry.MapCols, seed + 10 * n + 1);
        }
        return (op, images, maps);
    }
}
