using Distributed.Compute.Inference;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Inference;

public class SolverTests
{
    [Theory]
    [InlineData(Boundary.Valid, 0.8)]
    [InlineData(Boundary.Circular, 0.5)]
    [InlineData(Boundary.Valid, 1.0)]
    public void ZeilerInference_WithinOneBeta_EnergyNeverIncreases(Boundary boundary, double p)
    {
        var (ws, f, y) = Problem(boundary, 3, 2, 5, 14, 12, seed: 3);
        var z = ws.Geometry.NewMaps();
        var steps = new List<ZeilerStep>();
        ZeilerInference.Run(ws, f, y, z, 2.0, p, new ZeilerOptions { RoundsPerBeta = 3, CgSteps = 3 }, steps.Add);
        for (int i = 1; i < steps.Count; i++)
        {
            if (steps[i].BetaIndex != steps[i - 1].BetaIndex) continue;
            Assert.True(steps[i].Energy <= steps[i - 1].Energy * (1 + 1e-5) + 1e-6,
                $"β={steps[i].Beta}: energy rose from {steps[i - 1].Energy} to {steps[i].Energy} at step {i} ({(steps[i].IsXStep ? "x" : "z")}-step).");
        }
        Assert.Equal(2 * 6 * 3, steps.Count);
    }

    [Fact]
    public void ZeilerInference_MoreEpochsOfWarmStart_LowerTheObjective()
    {
        var (ws, f, y) = Problem(Boundary.Valid, 4, 1, 5, 16, 16, seed: 4);
        var z = ws.Geometry.NewMaps();
        var objectives = new List<double>();
        for (int epoch = 0; epoch < 4; epoch++)
            objectives.Add(ZeilerInference.Run(ws, f, y, z, 5.0, 0.8, new ZeilerOptions()).Objective);
        Assert.True(objectives[^1] < objectives[0], $"warm-started passes should lower E: {string.Join(", ", objectives)}.");
    }

    [Fact]
    public void FistaInference_LambdaBelowCriticalValue_GivesExactlyZero()
    {
        // min λ/2‖Fz − y‖² + ‖z‖₁ has z = 0 exactly when 1 ≥ λ max|Fᵀy|, i.e. λ ≤ 1 / max|Fᵀy|.
        var (ws, f, y) = Problem(Boundary.Valid, 3, 1, 4, 12, 12, seed: 5);
        var fty = ws.Geometry.NewMaps();
        ws.Operator.Adjoint(y, f, fty);
        double critical = 1 / fty.Data.Max(MathF.Abs);
        var z = ws.Geometry.NewMaps();
        var stats = FistaInference.Run(ws, f, 1, y, z, critical * 0.999, new FistaOptions { MaxIterations = 200, Tolerance = 0 });
        Assert.True(z.Data.All(v => v == 0), $"expected all zeros at λ = 0.999 λ_crit; {stats.Nonzeros} nonzeros.");
        var z2 = ws.Geometry.NewMaps();
        FistaInference.Run(ws, f, 1, y, z2, critical * 1.5, new FistaOptions { MaxIterations = 200, Tolerance = 0 });
        Assert.Contains(z2.Data, v => v != 0);
    }

    [Fact]
    public void FistaInference_MoreIterations_DecreaseObjectiveToTolerance()
    {
        var (ws, f, y) = Problem(Boundary.Circular, 4, 1, 5, 16, 16, seed: 6);
        double previous = double.PositiveInfinity;
        var values = new List<double>();
        foreach (int iterations in new[] { 1, 5, 25, 200, 2000 })
        {
            var z = ws.Geometry.NewMaps();
            double e = FistaInference.Run(ws, f, 1, y, z, 10, new FistaOptions { MaxIterations = iterations, Tolerance = 0 }).Objective;
            values.Add(e);
            Assert.True(e <= previous * (1 + 1e-6), $"objective rose with more iterations: {string.Join(", ", values)}.");
            previous = e;
        }
        Assert.True((values[^2] - values[^1]) / values[^1] < 1e-3, $"FISTA should have converged: {string.Join(", ", values)}.");
    }

    [Theory]
    [InlineData(Boundary.Valid, InferenceSolver.Fista)]
    [InlineData(Boundary.Circular, InferenceSolver.Fista)]
    [InlineData(Boundary.Circular, InferenceSolver.CoordinateDescent)]
    [InlineData(Boundary.Valid, InferenceSolver.CoordinateDescent)]
    public void PlantedSparseMaps_EitherL1Solver_ReconstructsTheImage(Boundary boundary, InferenceSolver solver)
    {
        // y = F z* with known unit-norm filters and sparse z*; with a small sparsity weight the reconstruction is exact.
        var geometry = new LayerGeometry(1, 4, 5, 24, 24, boundary);
        var g = Connectivity.Full(4, 1);
        var f = FilterInitializer.Gaussian(g, 5, 21);
        var planted = Synthetic.SparseMaps(geometry, 0.03, 22);
        var ws = new InferenceWorkspace(new LayerOperator(geometry, g));
        var y = geometry.NewImage();
        ws.Operator.Synthesize(planted, f, y);
        var z = geometry.NewMaps();
        if (solver == InferenceSolver.Fista) FistaInference.Run(ws, f, 1, y, z, 20000, new FistaOptions { MaxIterations = 5000, Tolerance = 1e-10 });
        else CoordinateDescentInference.Run(ws, f, 1, y, z, 20000, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-9 });
        var yhat = geometry.NewImage();
        ws.Operator.Synthesize(z, f, yhat);
        double err = 0;
        for (int i = 0; i < y.Length; i++) err += Math.Pow((double)yhat.Data[i] - y.Data[i], 2);
        double relative = Math.Sqrt(err) / Synthetic.Norm(y.Data);
        Assert.True(relative <= 1e-3, $"{solver}: relative reconstruction residual {relative:E3} > 1e-3.");
    }

    [Fact]
    public async Task ConjugateGradient_MoreSteps_ResidualFalls()
    {
        var geometry = new LayerGeometry(1, 3, 4, 16, 16, Boundary.Valid);
        var g = Connectivity.Full(3, 1);
        var op = new LayerOperator(geometry, g);
        var eq = new FilterNormalEquations(g, 4);
        for (int i = 0; i < 3; i++)
            eq.Accumulate(op, Synthetic.Random(3, geometry.MapRows, geometry.MapCols, 40 + i), Synthetic.Random(1, 16, 16, 50 + i));
        var residuals = new List<double>();
        for (int steps = 0; steps <= 8; steps++)
        {
            var f = FilterInitializer.Gaussian(g, 4, 7);
            (_, double r) = await FilterUpdate.ConjugateGradientAsync(eq, f, steps);
            residuals.Add(r);
        }
        for (int i = 1; i < residuals.Count; i++)
            Assert.True(residuals[i] < residuals[i - 1], $"CG residual did not fall at step {i}: {string.Join(", ", residuals.Select(v => v.ToString("E2")))}.");
    }

    [Fact]
    public async Task ProjectedGradient_FromAnyStart_MeetsConstraintsAndLowersObjective()
    {
        var geometry = new LayerGeometry(1, 3, 4, 16, 16, Boundary.Circular);
        var g = Connectivity.Full(3, 1);
        var op = new LayerOperator(geometry, g);
        var eq = new FilterNormalEquations(g, 4);
        eq.Accumulate(op, Synthetic.Random(3, 16, 16, 60), Synthetic.Random(1, 16, 16, 61));
        var f = FilterInitializer.Gaussian(g, 4, 8);
        FilterUpdate.Project(f, g, zeroMean: true);
        double before = await FilterUpdate.ObjectiveAsync(eq, f);
        double after = await FilterUpdate.ProjectedGradientAsync(eq, f, g, 200, zeroMean: true);
        Assert.True(after < before, $"objective {before} → {after}.");
        for (int k = 0; k < 3; k++)
        {
            Assert.True(Synthetic.Norm(f.Plane(k, 0)) <= 1 + 1e-5, $"filter {k} norm {Synthetic.Norm(f.Plane(k, 0))} > 1.");
            Assert.True(Math.Abs(f.Plane(k, 0).ToArray().Sum()) < 1e-5, $"filter {k} is not zero mean.");
        }
        // Optimality: a further long run barely moves the objective.
        double again = await FilterUpdate.ProjectedGradientAsync(eq, f, g, 400, zeroMean: true);
        Assert.True(after - again <= 1e-4 * Math.Abs(after) + 1e-6, $"not converged: {after} then {again}.");
    }

    internal static (InferenceWorkspace, FilterBank, Tensor3) Problem(Boundary boundary, int maps, int inputs, int s, int rows, int cols, int seed)
    {
        var geometry = new LayerGeometry(inputs, maps, s, rows, cols, boundary);
        var g = Connectivity.Full(maps, inputs);
        var f = FilterInitializer.Gaussian(g, s, seed);
        var y = Synthetic.Random(inputs, rows, cols, seed + 100);
        return (new InferenceWorkspace(new LayerOperator(geometry, g)), f, y);
    }
}
