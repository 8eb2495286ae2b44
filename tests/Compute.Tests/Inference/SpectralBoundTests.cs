using Distributed.Compute.Inference;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Inference;

public class SpectralBoundTests
{
    // Small cases where FᵀF can be built densely: both boundaries, square and oblong images, odd and even filters,
    // images barely larger than the filter (where the valid operator is furthest from the continuous sup).
    public static TheoryData<Boundary, int, int, int, int, int> Cases => new()
    {
        { Boundary.Circular, 6, 7, 3, 2, 11 },
        { Boundary.Circular, 7, 8, 4, 2, 12 },
        { Boundary.Circular, 5, 12, 5, 1, 13 },
        { Boundary.Valid, 4, 5, 3, 2, 14 },
        { Boundary.Valid, 6, 6, 4, 2, 15 },
        { Boundary.Valid, 5, 7, 5, 2, 16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NormalOperatorNorm_SmallImage_BoundsTheDenseLargestEigenvalue(Boundary boundary, int rows, int cols, int s, int maps, int seed)
    {
        var (f, geometry) = Layer(boundary, rows, cols, s, maps, seed);
        double exact = LargestEigenvalue(DenseNormalMatrix(f, geometry));

        double bound = SpectralBound.NormalOperatorNorm(f, geometry)!.Value;

        // The dense matrix comes from the float operator: allow its rounding (1e-5), nothing more.
        Assert.True(bound >= exact * (1 - 1e-5), $"{boundary} {rows}×{cols}, s = {s}: bound {bound:R} is below ‖FᵀF‖ = {exact:R}.");
        if (boundary == Boundary.Circular)
            Assert.True(bound <= exact * (1 + 1e-5), $"circular {rows}×{cols}: bound {bound:R} should equal ‖FᵀF‖ = {exact:R}.");
        else
            Assert.True(bound <= exact * 3, $"valid {rows}×{cols}: bound {bound:R} is loose against ‖FᵀF‖ = {exact:R}.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NormalOperatorNorm_BernsteinGrid_BoundsTheDenseLargestEigenvalue(Boundary boundary, int rows, int cols, int s, int maps, int seed)
    {
        var (f, geometry) = Layer(boundary, rows, cols, s, maps, seed);
        double exact = LargestEigenvalue(DenseNormalMatrix(f, geometry));

        // A grid limit of one point forces the large-image path (a G×G grid and Bernstein's factor) on every case.
        double bound = SpectralBound.NormalOperatorNorm(f, geometry, maxGridPoints: 1)!.Value;
        double sup = SpectralBound.MaxResponse(f, 512, 512);

        Assert.True(bound >= exact * (1 - 1e-5), $"{boundary} {rows}×{cols}: Bernstein bound {bound:R} is below ‖FᵀF‖ = {exact:R}.");
        Assert.True(bound >= sup * (1 - 1e-9), $"Bernstein bound {bound:R} is below the finely sampled sup {sup:R}.");
        Assert.True(bound <= sup * 1.01, $"Bernstein bound {bound:R} exceeds the sup {sup:R} by more than the 1% its grid allows.");
    }

    [Fact]
    public void NormalOperatorNorm_CoarseGridWithoutCorrection_WouldBeLow()
    {
        // Why the grid matters: the sampled maximum on a coarse grid misses the peak (the old 8s-point grid could be
        // ~0.2% low); the test above would fail for such a bound on at least one case.
        var (f, geometry) = Layer(Boundary.Valid, 40, 40, 5, 3, 21);
        double sup = SpectralBound.MaxResponse(f, 1024, 1024);
        double coarse = SpectralBound.MaxResponse(f, 8, 8);

        Assert.True(coarse < sup * 0.999, $"an 8×8 grid found {coarse:R} against the sup {sup:R}; pick filters whose peak falls between grid points.");
        Assert.True(SpectralBound.NormalOperatorNorm(f, geometry, maxGridPoints: 1)!.Value >= sup);
    }

    [Fact]
    public void NormalOperatorNorm_MultiPlane_IsNull() =>
        Assert.Null(SpectralBound.NormalOperatorNorm(FilterInitializer.Gaussian(Connectivity.Full(2, 3), 3, 1), new LayerGeometry(3, 2, 3, 8, 8, Boundary.Valid)));

    private static (FilterBank F, LayerGeometry Geometry) Layer(Boundary boundary, int rows, int cols, int s, int maps, int seed)
    {
        var f = new FilterBank(maps, 1, s);
        var rng = new Random(seed);
        for (int i = 0; i < f.Data.Length; i++) f.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return (f, new LayerGeometry(1, maps, s, rows, cols, boundary));
    }

    /// <summary>FᵀF column by column: the operator applied to every unit map.</summary>
    private static double[,] DenseNormalMatrix(FilterBank f, LayerGeometry geometry)
    {
        var op = new LayerOperator(geometry, Connectivity.Full(geometry.Maps, 1));
        Tensor3 e = geometry.NewMaps(), column = geometry.NewMaps(), y = geometry.NewImage();
        int n = e.Length;
        var a = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            Array.Clear(e.Data);
            e.Data[j] = 1;
            op.Synthesize(e, f, y);
            op.Adjoint(y, f, column);
            for (int i = 0; i < n; i++) a[i, j] = column.Data[i];
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                a[i, j] = a[j, i] = 0.5 * (a[i, j] + a[j, i]);
        return a;
    }

    /// <summary>The largest eigenvalue of a symmetric matrix by cyclic Jacobi rotations (all eigenvalues, to rounding).</summary>
    private static double LargestEigenvalue(double[,] matrix)
    {
        var a = (double[,])matrix.Clone();
        int n = a.GetLength(0);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++)
            {
                diag += a[i, i] * a[i, i];
                for (int j = i + 1; j < n; j++) off += a[i, j] * a[i, j];
            }
            if (off <= 1e-26 * diag) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), sn = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - sn * akq;
                        a[k, q] = sn * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - sn * aqk;
                        a[q, k] = sn * apk + c * aqk;
                    }
                }
        }
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, a[i, i]);
        return max;
    }
}
