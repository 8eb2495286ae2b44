using Distributed.Compute.Convolution;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Inference;

public class CoordinateDescentTests
{
    [Theory]
    [InlineData(Boundary.Circular, 4, 1, 5, 16, 18)]
    [InlineData(Boundary.Circular, 9, 3, 3, 12, 12)]   // several planes, K not a multiple of 8
    [InlineData(Boundary.Valid, 4, 1, 5, 16, 18)]      // atoms cropped by the image's edges
    [InlineData(Boundary.Valid, 9, 3, 3, 7, 12)]       // valid maps need no 2s−1
    public void CoordinateDescent_Converged_MeetsTheOptimalityConditions(Boundary boundary, int maps, int inputs, int s, int rows, int cols)
    {
        // min λ/2‖Fz − y‖² + ‖z‖₁ is solved when every coefficient is at its 1-D minimiser ST(c + n z, 1/λ)/n with
        // c = Fᵀ(y − Fz) computed afresh; equivalently g = λc has g = sign(z) on the support and |g| ≤ 1 off it.
        var (ws, f, y) = SolverTests.Problem(boundary, maps, inputs, s, rows, cols, seed: 31);
        const double lambda = 4;
        var z = ws.Geometry.NewMaps();
        var stats = CoordinateDescentInference.Run(ws, f, 1, y, z, lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6 });
        Assert.True(stats.Nonzeros > 0 && stats.Nonzeros < z.Length, $"a degenerate test problem: {stats.Nonzeros} of {z.Length} nonzero.");
        AssertOptimal(ws, f, y, z, lambda);
    }

    /// <summary>
    /// Every vector width of the best-move search (against the scalar one) × maps padded to 8 (all of it a 512-bit
    /// tail), 16 (one 512-bit vector) and 24 (one vector and a tail of 8), both boundaries, untiled and tiled (tile 10
    /// on 22×24 maps).
    /// </summary>
    public static TheoryData<int, Boundary, int, int, int> ScanWidthCases()
    {
        var data = new TheoryData<int, Boundary, int, int, int>();
        foreach (int bits in new[] { 512, 256, 128 })
        {
            data.Add(bits, Boundary.Circular, 4, 1, 0);
            data.Add(bits, Boundary.Valid, 9, 3, 0);
            data.Add(bits, Boundary.Circular, 17, 1, 0);
            data.Add(bits, Boundary.Valid, 17, 1, 0);
            data.Add(bits, Boundary.Circular, 9, 1, 10);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ScanWidthCases))]
    public void CoordinateDescent_EveryScanWidth_SameMapsAsScalar(int bits, Boundary boundary, int maps, int inputs, int tile)
    {
        // Each width finds the first of the largest moves in storage order, so every width makes the same moves and ends
        // on the same bits; the scalar solve itself must be optimal.
        (int rows, int cols) = tile > 0 ? (22, 24) : (14, 15);
        var (ws, f, y) = SolverTests.Problem(boundary, maps, inputs, 3, rows, cols, seed: 37);
        const double lambda = 4;
        var options = new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6, Tile = tile };
        var scalar = ws.Geometry.NewMaps();
        var stats = CoordinateDescentInference.Run(ws, f, 1, y, scalar, lambda, options, SimdPath.Scalar);
        Assert.True(stats.Nonzeros > 0 && stats.Nonzeros < scalar.Length, $"a degenerate test problem: {stats.Nonzeros} of {scalar.Length} nonzero.");
        AssertOptimal(ws, f, y, scalar, lambda);
        var vector = ws.Geometry.NewMaps();
        CoordinateDescentInference.Run(ws, f, 1, y, vector, lambda, options, TestData.Path(bits));
        TestData.AssertSameBits(scalar.Data, vector.Data, $"{TestData.Path(bits)} maps, K = {maps}, {boundary}, tile {tile}");
    }

    /// <summary>
    /// Asserts the ℓ1 optimality conditions at z with c = Fᵀ(y − Fz) computed afresh: every coefficient within 1e-5 ·
    /// max|z| of its 1-D minimiser, λc = sign z on the support and |λc| ≤ 1 off it (to 1e-3).
    /// </summary>
    internal static void AssertOptimal(InferenceWorkspace ws, Distributed.Compute.Tensors.FilterBank f, Distributed.Compute.Tensors.Tensor3 y, Distributed.Compute.Tensors.Tensor3 z, double lambda)
    {
        var r = ws.Geometry.NewImage();
        ws.Operator.Synthesize(z, f, r);
        for (int i = 0; i < r.Length; i++) r.Data[i] = y.Data[i] - r.Data[i];
        var c = ws.Geometry.NewMaps();
        ws.Operator.Adjoint(r, f, c);
        // n = ‖F e_{k,p}‖², measured by synthesizing the atom (the valid boundary crops it near the edges).
        double[] norms = AtomNorms(ws, f);
        double largest = z.Data.Max(MathF.Abs), worstMove = 0, worstSign = 0, worstBound = 0;
        int worstAt = -1;
        for (int i = 0; i < z.Length; i++)
        {
            double n = norms[i], beta = c.Data[i] + n * z.Data[i];
            double target = Math.Sign(beta) * Math.Max(Math.Abs(beta) - 1 / lambda, 0) / n;
            double move = Math.Abs(target - z.Data[i]) / largest;
            if (move > worstMove) (worstMove, worstAt) = (move, i);
            double g = lambda * c.Data[i];
            if (z.Data[i] == 0) worstBound = Math.Max(worstBound, Math.Abs(g) - 1);
            else if (Math.Abs(z.Data[i]) > 1e-3 * largest) worstSign = Math.Max(worstSign, Math.Abs(g - Math.Sign(z.Data[i])));
        }
        int plane = z.Rows * z.Cols;
        Assert.True(worstMove < 1e-5, $"a coefficient is {worstMove:E2} · max|z| from its 1-D minimiser (map {worstAt / Math.Max(1, plane)}, row {worstAt % plane / z.Cols}, column {worstAt % z.Cols}).");
        Assert.True(worstSign < 1e-3, $"on the support, |λc − sign z| reaches {worstSign:E2}.");
        Assert.True(worstBound < 1e-3, $"off the support, |λc| exceeds 1 by {worstBound:E2}.");
    }

    [Theory]
    [InlineData(Boundary.Circular)]
    [InlineData(Boundary.Valid)]
    public void CoordinateDescent_MoreSweeps_NeverRaiseTheObjective_AndMatchFista(Boundary boundary)
    {
        // Every move minimises E exactly along one coordinate, so E falls sweep by sweep (the solve is deterministic, so
        // n sweeps are a prefix of n + 1), and it ends at the optimum FISTA reaches.
        var (ws, f, y) = SolverTests.Problem(boundary, 6, 1, 4, 20, 20, seed: 32);
        const double lambda = 3;
        var values = new List<double>();
        foreach (int sweeps in new[] { 1, 2, 3, 5, 10, 40 })
        {
            var z = ws.Geometry.NewMaps();
            values.Add(CoordinateDescentInference.Run(ws, f, 1, y, z, lambda, new CoordinateDescentOptions { MaxSweeps = sweeps, Tolerance = 0 }).Objective);
        }
        for (int i = 1; i < values.Count; i++)
            Assert.True(values[i] <= values[i - 1] * (1 + 1e-6), $"E rose with more sweeps: {string.Join(", ", values)}.");
        var zc = ws.Geometry.NewMaps();
        double converged = CoordinateDescentInference.Run(ws, f, 1, y, zc, lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6 }).Objective;
        var zf = ws.Geometry.NewMaps();
        double fista = FistaInference.Run(ws, f, 1, y, zf, lambda, new FistaOptions { MaxIterations = 20_000, Tolerance = 1e-9 }).Objective;
        Assert.True(converged <= values[^1] * (1 + 1e-6), $"converged {converged} above 40 sweeps' {values[^1]}.");
        Assert.True(Math.Abs(converged - fista) <= 1e-5 * fista, $"coordinate descent {converged}, FISTA {fista}.");
    }

    [Fact]
    public void CoordinateDescent_LambdaBelowCriticalValue_GivesExactlyZero()
    {
        var (ws, f, y) = SolverTests.Problem(Boundary.Circular, 3, 1, 4, 12, 12, seed: 33);
        var fty = ws.Geometry.NewMaps();
        ws.Operator.Adjoint(y, f, fty);
        double critical = 1 / fty.Data.Max(MathF.Abs);
        var z = ws.Geometry.NewMaps();
        CoordinateDescentInference.Run(ws, f, 1, y, z, critical * 0.999, new CoordinateDescentOptions());
        Assert.All(z.Data, v => Assert.Equal(0f, v));
        CoordinateDescentInference.Run(ws, f, 1, y, z, critical * 1.5, new CoordinateDescentOptions());
        Assert.Contains(z.Data, v => v != 0);
    }

    [Fact]
    public void CoordinateDescent_WarmStartAndDeadFilter_SameBitsTwice_DeadMapCleared()
    {
        // A map whose filter is all zero cannot lower the data term, so its coefficients must go to 0 even from a
        // nonzero warm start; and the solve is deterministic.
        var (ws, f, y) = SolverTests.Problem(Boundary.Circular, 5, 1, 3, 14, 14, seed: 34);
        f.Plane(2, 0).Clear();
        var start = Synthetic.SparseMaps(ws.Geometry, 0.05, 35);
        var a = start.Clone();
        var b = start.Clone();
        CoordinateDescentInference.Run(ws, f, 7, y, a, 2, new CoordinateDescentOptions());
        CoordinateDescentInference.Run(ws, f, 7, y, b, 2, new CoordinateDescentOptions());
        Assert.Equal(a.Data, b.Data);
        Assert.All(a.ReadPlane(2).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void CoordinateDescent_CircularMapsBelowTwiceTheFilter_AreRejected()
    {
        var (ws, f, y) = SolverTests.Problem(Boundary.Circular, 2, 1, 5, 8, 8, seed: 36);
        var z = ws.Geometry.NewMaps();
        var e = Assert.Throws<ArgumentException>(() => CoordinateDescentInference.Run(ws, f, 1, y, z, 1, new CoordinateDescentOptions()));
        Assert.Contains("9×9", e.Message);
    }

    /// <summary>‖F e_{k,p}‖² for every coefficient, from the operator itself.</summary>
    internal static double[] AtomNorms(InferenceWorkspace ws, Distributed.Compute.Tensors.FilterBank f)
    {
        var norms = new double[ws.Geometry.NewMaps().Length];
        var unit = ws.Geometry.NewMaps();
        var image = ws.Geometry.NewImage();
        for (int i = 0; i < norms.Length; i++)
        {
            unit.Data[i] = 1;
            ws.Operator.Synthesize(unit, f, image);
            norms[i] = Synthetic.Dot(image.Data, image.Data);
            unit.Data[i] = 0;
        }
        return norms;
    }
}
