using Distributed.Compute.Imaging;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Inference;

/// <summary>The tiled solve keeps its maps compact: tiles hold z as nonzeros, and the compact entry point never builds a dense z.</summary>
public class CompactTilesTests
{
    private const double Lambda = 4;

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void CoordinateDescentInference_RunTiled_SameMapsAsTheDenseTiledSolve(Boundary boundary)
    {
        // Same plan, same moves: the compact path (warm start read as nonzeros, result written as nonzeros) must give the
        // dense path's maps value for value, cold and then warm-started under other filters.
        var (ws, f, y) = SolverTests.Problem(boundary, 5, 1, 3, 34, 30, seed: 47);
        var options = new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-5, Tile = 10 };
        IReadOnlyList<TileRect> plan = CoordinateDescentInference.TilesFor(ws.Geometry, options) ?? throw new InvalidOperationException("the case does not tile.");
        var dense = ws.Geometry.NewMaps();
        var denseStats = CoordinateDescentInference.Run(ws, f, 1, y, dense, Lambda, options);
        (SparseMaps compact, InferenceStats compactStats) = CoordinateDescentInference.RunTiled(ws, f, 1, y, null, Lambda, options, plan);
        AssertSameMaps(dense, compact);
        Assert.Equal(denseStats.Nonzeros, compactStats.Nonzeros);
        Assert.Equal(denseStats.Iterations, compactStats.Iterations);
        Assert.True(Math.Abs(compactStats.Objective - denseStats.Objective) <= 1e-6 * denseStats.Objective, $"compact {compactStats.Objective}, dense {denseStats.Objective}.");

        var other = new FilterBank(f.Maps, f.Inputs, f.Size);
        for (int i = 0; i < f.Data.Length; i++) other.Data[i] = f.Data[i] * (1 + 0.1f * MathF.Sin(i));
        CoordinateDescentInference.Run(ws, other, 2, y, dense, Lambda, options);
        (SparseMaps warm, _) = CoordinateDescentInference.RunTiled(ws, other, 2, y, compact, Lambda, options, plan);
        AssertSameMaps(dense, warm);
    }

    [Fact]
    public void CoordinateDescentTile_AfterASolve_HoldsZAsNonzerosNotDense()
    {
        // A tile holds c dense over its frame (4 bytes a coefficient), the input patch (4·C/K̄ a coefficient, 0.5 here)
        // and z as nonzeros (8 bytes each, plus slack). A dense z beside c would make it 8.5 bytes a coefficient; the
        // bound 6 leaves z (6 % nonzero here) at most 1.5 bytes a coefficient.
        var (ws, f, y) = SolverTests.Problem(Boundary.Valid, 8, 1, 3, 62, 62, seed: 48);
        var g = ws.Operator.Connectivity;
        var options = new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-5, Tile = 32 };
        IReadOnlyList<TileRect> plan = CoordinateDescentInference.TilesFor(ws.Geometry, options)!;
        var z = ws.Geometry.NewMaps();
        var tiles = plan.Select(t => new CoordinateDescentTile(ws.Geometry, g, f, 1, t, y, z)).ToArray();   // λ = 1: a few % nonzero
        TiledCoordinateDescent.Solve(ws.Geometry, plan, options, steps => [.. tiles.Select((t, i) => t.Step(f, steps[i]))]);
        long nonzeros = tiles.Sum(t => (long)t.Nonzeros), coefficients = tiles.Sum(t => t.FrameCoefficients);
        Assert.True(nonzeros > coefficients / 200, $"a degenerate test problem: {nonzeros} of {coefficients} nonzero.");
        double perCoefficient = tiles.Sum(t => (double)t.HeldBytes) / coefficients;
        Assert.True(perCoefficient < 6, $"tiles hold {perCoefficient:F2} bytes per coefficient ({nonzeros} of {coefficients} nonzero); z is not compact.");
    }

    [Fact]
    public async Task ImageShard_TiledCoordinateDescent_NeverRentsDenseMaps()
    {
        // The shard's tiled path reads the kept nonzeros, solves in compact tiles and keeps the result compact: no
        // map-shaped buffer may be rented at any point of two passes (statistics of both kinds included).
        foreach (FilterSystemKind system in new[] { FilterSystemKind.MatrixFree, FilterSystemKind.Explicit })
        {
            var spec = new TrainingSpec
            {
                Layers = [new LayerSpec { Maps = 4, FilterSize = 3, Lambda = 0.5, P = 1, Epochs = 2 }],
                Solver = InferenceSolver.CoordinateDescent,
                CoordinateDescent = new() { Tolerance = 1e-4, Tile = 10 },
                FilterSolver = FilterSolver.ProjectedGradient,
                FilterSystem = system,
                Preprocessing = Preprocessing.None,
                Seed = 5,
            };
            var workers = new LocalImageWorkers(spec, [("a", Fixtures.Synthetic.Random(1, 30, 26, 7))], shards: 1, maxParallelism: 2);
            ImageShard shard = workers.Local[0];
            TrainingResult result = await new Trainer(spec, workers).RunAsync();
            // Maps under the sparse kernels' density: denser ones would rightly take a dense buffer for them.
            Assert.True(result.Metrics.Count == 2 && result.Metrics.All(m => m.NonzeroFraction is > 0 and < LayerOperator.SparseDensityThreshold), string.Join(", ", result.Metrics.Select(m => m.NonzeroFraction)));
            Assert.DoesNotContain(shard.Buffers.Shapes, s => s.Planes == 4 && s.Rows == 32 && s.Cols == 28);
            Assert.True(shard.Images[0].MapsOf(0)!.IsCompact, "the kept maps are not compact.");
        }
    }

    private static void AssertSameMaps(Tensor3 dense, SparseMaps compact)
    {
        var scattered = new Tensor3(dense.Planes, dense.Rows, dense.Cols);
        compact.Scatter(scattered);
        for (int i = 0; i < dense.Length; i++)
            if (dense.Data[i] != scattered.Data[i]) Assert.Fail($"coefficient {i}: dense {dense.Data[i]}, compact {scattered.Data[i]}.");
    }
}
