using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

/// <summary>
/// The sparse-map paths of <see cref="LayerOperator"/> against the dense kernels and the naive loops: both boundaries,
/// one plane and three planes under a sparse connectivity, s = 8 (the one-vector rows) and odd s, densities from all-zero
/// maps to 30 %.
/// </summary>
public class SparseKernelsTests
{
    private const double Tolerance = 1e-5;

    /// <summary>(boundary, layout, s, density): layout 1 is K = 3, C = 1; layout 3 is singles and all doubles of 3 planes.</summary>
    public static TheoryData<Boundary, int, int, double> Cases()
    {
        var data = new TheoryData<Boundary, int, int, double>();
        foreach (Boundary boundary in new[] { Boundary.Valid, Boundary.Circular })
            foreach (int layout in new[] { 1, 3 })
                foreach (int s in new[] { 8, 5, 11 })
                    foreach (double density in new[] { 0, 0.002, 0.01, 0.05, 0.3 })
                        data.Add(boundary, layout, s, density);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Synthesize_SparseMaps_MatchesDenseKernelsAndNaiveReference(Boundary boundary, int layout, int s, double density)
    {
        var (sparse, dense, z, f, _) = Setup(boundary, layout, s, density, seed: 1);
        Tensor3 expected = dense.Geometry.NewImage(), actual = dense.Geometry.NewImage();
        dense.Synthesize(z, f, expected);
        TestData.Fill(actual.Data, seed: 77);   // stale contents must be overwritten
        sparse.Synthesize(z, f, actual);
        Assert.Equal(MapsPath.Sparse, sparse.LastPath);
        string what = $"sparse synthesis {boundary} layout {layout} s={s} density {density}";
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, what);
        Tensor3 maps = boundary == Boundary.Valid ? z : NaiveLayer.WrapPad(z, s);
        TestData.AssertClose(NaiveLayer.Synthesize(maps, f, dense.Connectivity, Rows, Cols).Data, actual.Data, Tolerance, what + " vs naive");
        if (density == 0) Assert.All(actual.Data, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_SparseMaps_MatchesDenseKernelsAndNaiveReference(Boundary boundary, int layout, int s, double density)
    {
        var (sparse, dense, z, _, r) = Setup(boundary, layout, s, density, seed: 2);
        FilterBank expected = dense.Geometry.NewFilters(), actual = dense.Geometry.NewFilters();
        dense.FilterGradient(z, r, expected);
        TestData.Fill(actual.Data, seed: 78);
        sparse.FilterGradient(z, r, actual);
        Assert.Equal(MapsPath.Sparse, sparse.LastPath);
        string what = $"sparse filter gradient {boundary} layout {layout} s={s} density {density}";
        TestData.AssertClose(expected.Data, actual.Data, Tolerance, what);
        Tensor3 maps = boundary == Boundary.Valid ? z : NaiveLayer.WrapPad(z, s);
        TestData.AssertClose(NaiveLayer.FilterGradient(maps, r, dense.Connectivity, s).Data, actual.Data, Tolerance, what + " vs naive");
        if (density == 0) Assert.All(actual.Data, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Synthesize_SparseMaps_IsTransposeOfDenseAdjoint(Boundary boundary, int layout, int s, double density)
    {
        var (sparse, dense, z, f, r) = Setup(boundary, layout, s, density, seed: 3);
        Tensor3 fz = sparse.Geometry.NewImage(), ftr = sparse.Geometry.NewMaps();
        sparse.Synthesize(z, f, fz);
        dense.Adjoint(r, f, ftr);
        double lhs = TestData.Dot(fz.Data, r.Data), rhs = TestData.Dot(z.Data, ftr.Data);
        double scale = Math.Sqrt(TestData.Dot(z.Data, z.Data) * TestData.Dot(ftr.Data, ftr.Data)) + 1e-30;
        Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * scale, $"⟨F z, r⟩ = {lhs}, ⟨z, Fᵀ r⟩ = {rhs} ({boundary}, layout {layout}, s={s}, density {density}).");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_SparseMaps_IsTransposeOfFilterSide(Boundary boundary, int layout, int s, double density)
    {
        var (sparse, dense, z, f, r) = Setup(boundary, layout, s, density, seed: 4);
        Tensor3 fz = dense.Geometry.NewImage();
        dense.Synthesize(z, f, fz);                 // F(z) f, dense
        FilterBank grad = sparse.Geometry.NewFilters();
        sparse.FilterGradient(z, r, grad);          // F(z)ᵀ r, sparse
        double lhs = TestData.Dot(fz.Data, r.Data), rhs = TestData.Dot(f.Data, grad.Data);
        double scale = Math.Sqrt(TestData.Dot(f.Data, f.Data) * TestData.Dot(grad.Data, grad.Data)) + 1e-30;
        Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * scale, $"⟨F(z) f, r⟩ = {lhs}, ⟨f, ∇_f⟩ = {rhs} ({boundary}, layout {layout}, s={s}, density {density}).");
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Operators_AutomaticPath_SparseBelowThresholdDenseAbove(Boundary boundary)
    {
        Connectivity g = LayerCases.Layout(3);
        var geometry = new LayerGeometry(g.Inputs, g.Maps, 8, Rows, Cols, boundary);
        var auto = new LayerOperator(geometry, g);
        var dense = new LayerOperator(geometry, g) { Path = MapsPath.Dense };
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, 8, seed: 5);
        Tensor3 r = TestData.Random(g.Inputs, Rows, Cols, seed: 6);
        foreach (double density in new[] { LayerOperator.SparseDensityThreshold / 2, Math.Min(1, LayerOperator.SparseDensityThreshold * 2) })
        {
            Tensor3 z = SparseRandom(geometry, density, seed: 7);
            MapsPath expected = density <= LayerOperator.SparseDensityThreshold ? MapsPath.Sparse : MapsPath.Dense;
            Tensor3 y1 = geometry.NewImage(), y2 = geometry.NewImage();
            auto.Synthesize(z, f, y1);
            Assert.Equal(expected, auto.LastPath);
            dense.Synthesize(z, f, y2);
            TestData.AssertClose(y2.Data, y1.Data, Tolerance, $"automatic synthesis at density {density}");
            FilterBank g1 = geometry.NewFilters(), g2 = geometry.NewFilters();
            auto.FilterGradient(z, r, g1);
            Assert.Equal(expected, auto.LastPath);
            dense.FilterGradient(z, r, g2);
            TestData.AssertClose(g2.Data, g1.Data, Tolerance, $"automatic filter gradient at density {density}");
        }
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void Operators_SparsePathSameInputTwiceAndAnyThreadCount_IdenticalBits(Boundary boundary)
    {
        // Large enough (≈ 2·10⁶ multiply-adds) that degrees above 1 really fork.
        Connectivity g = Connectivity.RandomDoubles(8, 3, seed: 3);
        var geometry = new LayerGeometry(3, 8, 8, 57, 61, boundary);
        Tensor3 z = SparseRandom(geometry, 0.3, seed: 8);
        FilterBank f = TestData.RandomFilters(8, 3, 8, seed: 9);
        Tensor3 r = TestData.Random(3, 57, 61, seed: 10);
        var serial = new LayerOperator(geometry, g) { Path = MapsPath.Sparse };
        Tensor3 y0 = geometry.NewImage();
        FilterBank g0 = geometry.NewFilters();
        serial.Synthesize(z, f, y0);
        serial.FilterGradient(z, r, g0);
        Assert.True((long)serial.LastSparseCount * 3 * 64 >= SparseKernels.ParallelWork, "the case is too small to fork");
        foreach (int degree in new[] { 1, 2, 3, 8 })
        {
            var op = new LayerOperator(geometry, g, degree) { Path = MapsPath.Sparse };
            Tensor3 y = geometry.NewImage();
            FilterBank grad = geometry.NewFilters();
            op.Synthesize(z, f, y);
            op.FilterGradient(z, r, grad);
            Assert.Equal(y0.Data, y.Data);
            Assert.Equal(g0.Data, grad.Data);
        }
    }

    /// <summary>
    /// Every forced width × both boundaries × two layouts × filter rows of 1 to 17 floats (shorter than a vector, one
    /// short of and one past 4, 8 and 16, the s = 8 register kernels, and s = 16 whole 512-bit rows), densities cycling 0.2 %, 5 %, 30 %.
    /// </summary>
    public static TheoryData<int, Boundary, int, int, double> WidthCases()
    {
        var data = new TheoryData<int, Boundary, int, int, double>();
        double[] densities = [0.002, 0.05, 0.3];
        int n = 0;
        foreach (int bits in new[] { 512, 256, 128 })
            foreach (Boundary boundary in new[] { Boundary.Valid, Boundary.Circular })
                foreach (int layout in new[] { 1, 3 })
                    foreach (int s in new[] { 1, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17 })
                        data.Add(bits, boundary, layout, s, densities[n++ % densities.Length]);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthCases))]
    public void SparseKernels_EveryPathAgainstScalar_IdenticalBits(int bits, Boundary boundary, int layout, int s, double density)
    {
        // Each forced width runs (in software where the hardware lacks it); every product is a fused multiply-add in
        // every lane and tail, summed in the nonzeros' order, so no bit may differ from the scalar path. The scalar path
        // itself is held to the dense kernels by the tests above.
        Connectivity g = LayerCases.Layout(layout);
        var geometry = new LayerGeometry(g.Inputs, g.Maps, s, Rows, Cols, boundary);
        Tensor3 z = SparseRandom(geometry, density, seed: 11);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, s, seed: 12);
        var maps = new SparseMaps();
        maps.Gather(z);
        var extended = new Tensor3(g.Inputs, geometry.MapRows + s - 1, geometry.MapCols + s - 1);
        Tensor3 yVector = geometry.NewImage(), yScalar = geometry.NewImage();
        bool[] mask = g.ToArray();
        SimdPath path = TestData.Path(bits);
        SparseKernels.Synthesize(maps, f, mask, boundary, extended, yVector, path: path);
        SparseKernels.Synthesize(maps, f, mask, boundary, extended, yScalar, path: SimdPath.Scalar);
        TestData.AssertSameBits(yScalar.Data, yVector.Data, $"{path} sparse synthesis {boundary} layout {layout} s={s}");

        TestData.Fill(extended.Data, seed: 13);   // stands in for the extended residual
        var totals = new double[s * s];
        FilterBank gVector = geometry.NewFilters(), gScalar = geometry.NewFilters();
        SparseKernels.FilterGradient(maps, extended, mask, totals, gVector, path: path);
        SparseKernels.FilterGradient(maps, extended, mask, totals, gScalar, path: SimdPath.Scalar);
        TestData.AssertSameBits(gScalar.Data, gVector.Data, $"{path} sparse filter gradient {boundary} layout {layout} s={s}");
    }

    /// <summary>Map widths around the scan's 32- and 8-float runs (1 to 75 columns), at several densities.</summary>
    public static TheoryData<int, double> GatherCases()
    {
        var data = new TheoryData<int, double>();
        foreach (int cols in new[] { 1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 65, 75 })
            foreach (double density in new[] { 0.0, 0.05, 0.5, 1.0 })
                data.Add(cols, density);
        return data;
    }

    [Theory]
    [MemberData(nameof(GatherCases))]
    public void Gather_VectorScanAndScalarScan_SameNonzerosSameOrder(int cols, double density)
    {
        // The scan has two paths: the AVX2 compaction and one value at a time. Where the machine has no AVX2 the vector
        // scan cannot run at all (no software form), and forcing it must say so rather than quietly scan scalar.
        var geometry = new LayerGeometry(1, 3, 1, 5, cols, Boundary.Valid);
        Tensor3 z = SparseRandom(geometry, density, seed: 18 + cols);
        if (cols > 3) z[1, 2, cols - 2] = -0f;   // zero however signed: skipped by both
        var scalar = new SparseMaps();
        Assert.True(scalar.Gather(z, int.MaxValue, SimdPath.Scalar));
        Assert.Equal(z.Data.Count(v => v != 0), scalar.Count);
        var vector = new SparseMaps();
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => vector.Gather(z, int.MaxValue, SimdPath.Vector256));
            return;
        }
        Assert.True(vector.Gather(z, int.MaxValue, SimdPath.Vector256));
        Assert.Equal(scalar.RowStart.ToArray(), vector.RowStart.ToArray());
        Assert.Equal(scalar.NonzeroColumns.ToArray(), vector.NonzeroColumns.ToArray());
        TestData.AssertSameBits(scalar.NonzeroValues, vector.NonzeroValues, $"gathered values, {cols} columns, density {density}");
        // A limit one short of the count stops both scans and leaves both empty.
        int count = scalar.Count;
        if (count > 0)
        {
            Assert.False(scalar.Gather(z, count - 1, SimdPath.Scalar));
            Assert.False(vector.Gather(z, count - 1, SimdPath.Vector256));
            Assert.Equal(0, scalar.Count);
            Assert.Equal(0, vector.Count);
        }
    }

    [Fact]
    public void SparseKernels_MisShapedArguments_Throw()
    {
        var maps = new SparseMaps();
        maps.Gather(new Tensor3(3, 10, 12));
        var f = new FilterBank(3, 2, 3);
        bool[] mask = Connectivity.Full(3, 2).ToArray();
        Assert.Throws<ArgumentException>(() => SparseKernels.SynthesizeExtended(maps, f, mask, new Tensor3(2, 12, 13)));
        Assert.Throws<ArgumentException>(() => SparseKernels.SynthesizeExtended(maps, f, new bool[5], new Tensor3(2, 12, 14)));
        Assert.Throws<ArgumentException>(() => SparseKernels.FilterGradient(maps, new Tensor3(2, 12, 14), mask, new double[8], new FilterBank(3, 2, 3)));
        Assert.Throws<ArgumentException>(() => SparseKernels.FilterGradient(maps, new Tensor3(1, 12, 14), mask, new double[9], new FilterBank(3, 2, 3)));
        Assert.Throws<ArgumentException>(() => SparseKernels.Crop(new Tensor3(2, 12, 14), 2, new Tensor3(2, 8, 9)));
        Assert.Throws<ArgumentException>(() => SparseKernels.FoldWrapExtension(new Tensor3(2, 12, 14), new Tensor3(2, 10, 11)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Gather_AnyDensity_ScatterRestoresTheMaps(double density)
    {
        // 79 map columns: two runs of 32, one block of 8 and a tail of 7 per row.
        var geometry = new LayerGeometry(1, 4, 3, 13, 77, Boundary.Valid);
        Tensor3 z = SparseRandom(geometry, density, seed: 14);
        var maps = new SparseMaps();
        maps.Gather(z);
        int expected = z.Data.Count(v => v != 0);
        Assert.Equal(expected, maps.Count);
        Assert.Equal(expected / (double)z.Length, maps.Density, 12);
        var back = geometry.NewMaps();
        TestData.Fill(back.Data, seed: 15);
        maps.Scatter(back);
        Assert.Equal(z.Data, back.Data);
    }

    [Fact]
    public void TryGather_MoreNonzerosThanTheLimit_ReturnsFalseAndStaysEmpty()
    {
        Tensor3 z = TestData.Random(2, 9, 11, seed: 16);   // every value nonzero
        var maps = new SparseMaps();
        Assert.False(maps.TryGather(z, z.Length - 1));
        Assert.Equal(0, maps.Count);
        Assert.True(maps.Capacity <= z.Length - 1 + 32, $"capacity {maps.Capacity} grew past the limit and its slack");
        Assert.True(maps.TryGather(z, z.Length));
        Assert.Equal(z.Length, maps.Count);
    }

    [Fact]
    public void Gather_NegativeZeroAndNaN_SkipsZeroKeepsNaN()
    {
        // 75 columns: a run of 32, a second run of 32, one block of 8 and a scalar tail of 3, each path hit once.
        var z = new Tensor3(1, 2, 75);
        z[0, 0, 3] = -0f;          // alone in its run of 32: the run is not all-zero bits, yet it holds no nonzero
        z[0, 0, 68] = -0f;         // in the block of 8
        z[0, 0, 73] = -0f;         // in the tail
        z[0, 1, 9] = float.NaN;
        z[0, 1, 40] = 2f;
        z[0, 1, 70] = float.NaN;
        z[0, 1, 74] = float.NaN;
        var maps = new SparseMaps();
        maps.Gather(z);
        Assert.Equal(4, maps.Count);
        Assert.Equal(new[] { 9, 40, 70, 74 }, maps.NonzeroColumns.ToArray());
        Assert.Equal(new[] { 0, 0, 4 }, maps.RowStart.ToArray());
        Assert.Equal(2f, maps.NonzeroValues[1]);
    }

    [Fact]
    public void Synthesize_CallsAfterGatherIsSized_AllocateNothing()
    {
        var (sparse, _, z, f, r) = Setup(Boundary.Circular, 1, 8, 0.01, seed: 17);
        Tensor3 y = sparse.Geometry.NewImage();
        FilterBank grad = sparse.Geometry.NewFilters();
        sparse.Synthesize(z, f, y);
        sparse.FilterGradient(z, r, grad);
        long before = GC.GetAllocatedBytesForCurrentThread();
        sparse.Synthesize(z, f, y);
        sparse.FilterGradient(z, r, grad);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private const int Rows = 23, Cols = 29;

    private static (LayerOperator Sparse, LayerOperator Dense, Tensor3 Z, FilterBank F, Tensor3 R) Setup(Boundary boundary, int layout, int s, double density, int seed)
    {
        Connectivity g = LayerCases.Layout(layout);
        var geometry = new LayerGeometry(g.Inputs, g.Maps, s, Rows, Cols, boundary);
        var sparse = new LayerOperator(geometry, g) { Path = MapsPath.Sparse };
        var dense = new LayerOperator(geometry, g) { Path = MapsPath.Dense };
        Tensor3 z = SparseRandom(geometry, density, seed);
        FilterBank f = TestData.RandomFilters(g.Maps, g.Inputs, s, seed + 1000);
        Tensor3 r = TestData.Random(g.Inputs, Rows, Cols, seed + 2000);
        return (sparse, dense, z, f, r);
    }

    /// <summary>Maps whose values are uniform in [−1, 1) with probability <paramref name="density"/> and 0 otherwise.</summary>
    internal static Tensor3 SparseRandom(LayerGeometry geometry, double density, int seed)
    {
        Tensor3 z = geometry.NewMaps();
        var rng = new Random(seed);
        for (int i = 0; i < z.Length; i++)
        {
            bool keep = rng.NextDouble() < density;
            float v = rng.NextSingle() * 2f - 1f;
            if (keep) z.Data[i] = v == 0 ? 0.5f : v;
        }
        return z;
    }
}
