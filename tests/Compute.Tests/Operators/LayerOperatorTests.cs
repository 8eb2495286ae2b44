using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

public class LayerOperatorTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<int, int, int, int> Cases() => LayerCases.All();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Synthesize_ValidBoundary_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        var (op, z, f, _) = Setup(h, w, s, layout, Boundary.Valid, seed: 1);
        Tensor3 expected = NaiveLayer.Synthesize(z, f, op.Connectivity, h, w);
        Tensor3 actual = op.Geometry.NewImage();
        op.Synthesize(z, f, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"synthesis {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Synthesize_CircularBoundary_MatchesNaiveReferenceOnWrapPaddedMaps(int h, int w, int s, int layout)
    {
        var (op, z, f, _) = Setup(h, w, s, layout, Boundary.Circular, seed: 2);
        Tensor3 expected = NaiveLayer.Synthesize(NaiveLayer.WrapPad(z, s), f, op.Connectivity, h, w);
        Tensor3 actual = op.Geometry.NewImage();
        op.Synthesize(z, f, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"circular synthesis {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_ValidBoundary_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        var (op, _, f, r) = Setup(h, w, s, layout, Boundary.Valid, seed: 3);
        Tensor3 expected = NaiveLayer.Adjoint(r, f, op.Connectivity);
        Tensor3 actual = op.Geometry.NewMaps();
        TestData.Fill(actual.Data, seed: 99); // stale contents must be overwritten, not added to
        op.Adjoint(r, f, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"adjoint {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_CircularBoundary_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        var (op, _, f, r) = Setup(h, w, s, layout, Boundary.Circular, seed: 4);
        Tensor3 expected = NaiveLayer.CircularAdjoint(r, f, op.Connectivity);
        Tensor3 actual = op.Geometry.NewMaps();
        TestData.Fill(actual.Data, seed: 98);
        op.Adjoint(r, f, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"circular adjoint {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_ValidBoundary_MatchesNaiveReference(int h, int w, int s, int layout)
    {
        var (op, z, _, r) = Setup(h, w, s, layout, Boundary.Valid, seed: 5);
        FilterBank expected = NaiveLayer.FilterGradient(z, r, op.Connectivity, s);
        FilterBank actual = op.Geometry.NewFilters();
        TestData.Fill(actual.Data, seed: 97);
        op.FilterGradient(z, r, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"filter gradient {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_CircularBoundary_MatchesNaiveReferenceOnWrapPaddedMaps(int h, int w, int s, int layout)
    {
        var (op, z, _, r) = Setup(h, w, s, layout, Boundary.Circular, seed: 6);
        FilterBank expected = NaiveLayer.FilterGradient(NaiveLayer.WrapPad(z, s), r, op.Connectivity, s);
        FilterBank actual = op.Geometry.NewFilters();
        op.FilterGradient(z, r, actual);
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, $"circular filter gradient {h}×{w} s={s} layout {layout}");
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Operators_ParallelDegrees_EqualSerialExactly(Boundary boundary)
    {
        var (serial, z, f, r) = Setup(37, 29, 5, 4, boundary, seed: 7);
        foreach (int degree in new[] { 2, 3, 8 })
        {
            var parallel = new LayerOperator(serial.Geometry, serial.Connectivity, degree);
            Tensor3 y1 = serial.Geometry.NewImage(), y2 = serial.Geometry.NewImage();
            serial.Synthesize(z, f, y1);
            parallel.Synthesize(z, f, y2);
            Assert.Equal(y1.Data, y2.Data);
            Tensor3 a1 = serial.Geometry.NewMaps(), a2 = serial.Geometry.NewMaps();
            serial.Adjoint(r, f, a1);
            parallel.Adjoint(r, f, a2);
            Assert.Equal(a1.Data, a2.Data);
            FilterBank g1 = serial.Geometry.NewFilters(), g2 = serial.Geometry.NewFilters();
            serial.FilterGradient(z, r, g1);
            parallel.FilterGradient(z, r, g2);
            Assert.Equal(g1.Data, g2.Data);
        }
    }

    [Fact]
    public void Constructor_DegreeOfParallelismBelowOne_Throws()
    {
        var geometry = new LayerGeometry(1, 1, 3, 8, 8, Boundary.Valid);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerOperator(geometry, Connectivity.Full(1, 1), 0));
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Synthesize_DestinationAliasesMaps_Throws(Boundary boundary)
    {
        // s = 1 (valid) or circular with K = C: maps and image have the same length, so one array can pose as both.
        int s = boundary == Boundary.Valid ? 1 : 3;
        var op = new LayerOperator(new LayerGeometry(2, 2, s, 6, 6, boundary), Connectivity.Full(2, 2));
        Tensor3 z = TestData.Random(2, 6, 6, seed: 1);
        var alias = new Tensor3(2, 6, 6, z.Data);
        Assert.Throws<ArgumentException>(() => op.Synthesize(z, TestData.RandomFilters(2, 2, s, 2), alias));
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Adjoint_DestinationAliasesResidual_Throws(Boundary boundary)
    {
        int s = boundary == Boundary.Valid ? 1 : 3;
        var op = new LayerOperator(new LayerGeometry(2, 2, s, 6, 6, boundary), Connectivity.Full(2, 2));
        Tensor3 r = TestData.Random(2, 6, 6, seed: 1);
        var alias = new Tensor3(2, 6, 6, r.Data);
        Assert.Throws<ArgumentException>(() => op.Adjoint(r, TestData.RandomFilters(2, 2, s, 2), alias));
    }

    [Fact]
    public void FilterGradient_DestinationAliasesResidual_Throws()
    {
        var op = new LayerOperator(new LayerGeometry(1, 1, 4, 4, 4, Boundary.Circular), Connectivity.Full(1, 1));
        Tensor3 r = TestData.Random(1, 4, 4, seed: 1);
        var alias = new FilterBank(1, 1, 4, r.Data);
        Assert.Throws<ArgumentException>(() => op.FilterGradient(TestData.Random(1, 4, 4, seed: 2), r, alias));
    }

    [Fact]
    public void Operators_MisShapedArguments_Throw()
    {
        var (op, z, f, r) = Setup(9, 11, 3, 3, Boundary.Valid, seed: 8);
        Assert.Throws<ArgumentException>(() => op.Synthesize(z, f, new Tensor3(3, 9, 10)));          // too few columns
        Assert.Throws<ArgumentException>(() => op.Synthesize(z, f, new Tensor3(2, 9, 11)));          // too few planes
        Assert.Throws<ArgumentException>(() => op.Synthesize(new Tensor3(6, 9, 11), f, r.Clone()));  // maps image-sized
        Assert.Throws<ArgumentException>(() => op.Synthesize(z, new FilterBank(6, 3, 5), r.Clone())); // wrong filter size
        Assert.Throws<ArgumentException>(() => op.Adjoint(r, f, new Tensor3(6, 11, 12)));            // one row short
        Assert.Throws<ArgumentException>(() => op.Adjoint(new Tensor3(3, 9, 12), f, op.Geometry.NewMaps()));
        Assert.Throws<ArgumentException>(() => op.FilterGradient(z, r, new FilterBank(6, 2, 3)));
        Assert.Throws<ArgumentException>(() => op.FilterGradient(z, new Tensor3(3, 8, 11), op.Geometry.NewFilters()));
    }

    internal static (LayerOperator Op, Tensor3 Z, FilterBank F, Tensor3 R) Setup(int h, int w, int s, int layout, Boundary boundary, int seed)
    {
        Connectivity g = LayerCases.Layout(layout);
        var geometry = new LayerGeometry(g.Inputs, g.Maps, s, h, w, boundary);
        var op = new LayerOperator(geometry, g);
        Tensor3 z = TestData.Random(g.Maps, geometry.MapRows, geometry.MapCols, seed);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, s, seed + 1000);
        Tensor3 r = TestData.Random(g.Inputs, h, w, seed + 2000);
        return (op, z, f, r);
    }
}
