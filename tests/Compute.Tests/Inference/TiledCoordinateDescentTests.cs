using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Inference;

public class TiledCoordinateDescentTests
{
    private const double Lambda = 4;

    [Theory]
    [InlineData(Boundary.Circular, 4, 1, 3, 25, 23, 10, 1)]   // tiles 12 and 13 by 11 and 12: unequal at the edge
    [InlineData(Boundary.Circular, 9, 3, 3, 20, 24, 10, 2)]   // several planes, K not a multiple of 8, tiles in parallel
    [InlineData(Boundary.Circular, 4, 1, 3, 14, 31, 10, 2)]   // one tile across the rows: its halo wraps onto itself
    [InlineData(Boundary.Valid, 4, 1, 3, 23, 21, 10, 2)]      // maps 25×23: tiles 12 and 13 by 11 and 12, atoms cropped at the image's edges
    [InlineData(Boundary.Valid, 5, 2, 4, 30, 17, 14, 3)]      // maps 33×20: tiles of 16 and 17 rows, one tile across the columns
    public void TiledCoordinateDescent_Converged_MeetsTheOptimalityConditionsAcrossTileBorders(Boundary boundary, int maps, int inputs, int s, int rows, int cols, int tile, int threads)
    {
        // The conditions are checked on the whole image's maps with c computed afresh by the untiled operator, so a
        // border move that a neighbour missed, or a halo applied twice, leaves coefficients near the borders off their
        // 1-D minimisers.
        var (ws, f, y) = SolverTests.Problem(boundary, maps, inputs, s, rows, cols, seed: 41);
        var threaded = WithThreads(ws, threads);
        Assert.True(TiledCoordinateDescent.Applies(ws.Geometry, TilePlan.Plan(ws.Geometry.MapRows, ws.Geometry.MapCols, tile, s)), "the case does not tile.");
        var z = ws.Geometry.NewMaps();
        var stats = CoordinateDescentInference.Run(threaded, f, 1, y, z, Lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6, Tile = tile });
        Assert.True(stats.Nonzeros > 0 && stats.Nonzeros < z.Length, $"a degenerate test problem: {stats.Nonzeros} of {z.Length} nonzero.");
        CoordinateDescentTests.AssertOptimal(ws, f, y, z, Lambda);
    }

    [Theory]
    [InlineData(Boundary.Circular)]
    [InlineData(Boundary.Valid)]
    public void TiledCoordinateDescent_SameProblem_ReachesTheUntiledObjective(Boundary boundary)
    {
        var (ws, f, y) = SolverTests.Problem(boundary, 6, 1, 4, 36, 40, seed: 42);
        var untiled = ws.Geometry.NewMaps();
        double expected = CoordinateDescentInference.Run(ws, f, 1, y, untiled, Lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6 }).Objective;
        var tiled = ws.Geometry.NewMaps();
        double actual = CoordinateDescentInference.Run(WithThreads(ws, 2), f, 1, y, tiled, Lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6, Tile = 14 }).Objective;
        Assert.True(Math.Abs(actual - expected) <= 1e-5 * expected, $"tiled {actual}, untiled {expected}.");
        // The same optimum, so the same maps up to the tolerance (the problem is strictly convex on the support here).
        double largest = untiled.Data.Max(MathF.Abs);
        double worst = untiled.Data.Zip(tiled.Data, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-3 * largest, $"maps differ by {worst:E2} (max|z| {largest:E2}).");
    }

    [Fact]
    public void TiledCoordinateDescent_ThreadCounts_SameBitsForTheSamePlan()
    {
        // The exchange hands moves over in tile order and each tile owns its buffers, so neither the thread count nor
        // the schedule can change a bit.
        var (ws, f, y) = SolverTests.Problem(Boundary.Valid, 5, 1, 3, 40, 36, seed: 43);
        var options = new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-5, Tile = 10 };
        float[][] results = new[] { 1, 2, 4, 2 }.Select(threads =>
        {
            var z = ws.Geometry.NewMaps();
            CoordinateDescentInference.Run(WithThreads(ws, threads), f, 1, y, z, Lambda, options);
            return z.Data;
        }).ToArray();
        for (int i = 1; i < results.Length; i++) Assert.Equal(results[0], results[i]);
    }

    [Fact]
    public void TilePlan_Auto_TilesOnlyImagesOfTwiceTheDefaultTile()
    {
        Assert.Null(TilePlan.Auto(511, 511, 8));
        Assert.Equal(7, TilePlan.Auto(511, 2000, 8)!.Count);
        Assert.Equal(2, TilePlan.Auto(512, 300, 8)!.Count);
        Assert.Equal(64, TilePlan.Auto(2055, 2055, 8)!.Count);
        Assert.Equal(256, TilePlan.DefaultTile(8));
        Assert.Equal(2 * (2 * 70 - 1), TilePlan.DefaultTile(70));
    }

    [Fact]
    public void TiledCoordinateDescent_WarmStart_KeepsAnOptimum()
    {
        // Warm starts load every tile's halo from the maps: an optimal start must stay optimal and move (almost) nothing.
        var (ws, f, y) = SolverTests.Problem(Boundary.Valid, 4, 1, 3, 26, 26, seed: 45);
        var z = ws.Geometry.NewMaps();
        CoordinateDescentInference.Run(ws, f, 1, y, z, Lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6 });
        var warm = z.Clone();
        var stats = CoordinateDescentInference.Run(WithThreads(ws, 2), f, 1, y, warm, Lambda, new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6, Tile = 10 });
        Assert.True(stats.Iterations <= 2, $"{stats.Iterations} sweeps from an optimal start.");
        CoordinateDescentTests.AssertOptimal(ws, f, y, warm, Lambda);
    }

    [Theory]
    [InlineData(3, 9)]
    [InlineData(8, 29)]
    public void TilePlan_TileBelowTwiceTheStencil_IsRejectedNamingTheBound(int s, int tile)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TilePlan.Plan(100, 100, tile, s));
        Assert.Contains($"allowed {2 * (2 * s - 1)}..{TilePlan.MaximumTile}", e.Message);
        TilePlan.Plan(100, 100, tile + 1, s);
    }

    [Fact]
    public void TilePlan_TileAboveTheLimit_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TilePlan.Plan(100, 100, TilePlan.MaximumTile + 1, 3));
        Assert.Contains("tile = 65537", e.Message);
    }

    [Fact]
    public void TilePlan_Plan_CoversTheMapsOnceWithTheRemainderSpreadTowardsTheEdge()
    {
        IReadOnlyList<TileRect> plan = TilePlan.Plan(47, 30, 14, 3);
        Assert.Equal([15, 16, 16], plan.Where(t => t.Col == 0).Select(t => t.Rows));
        Assert.Equal([15, 15], plan.Where(t => t.Row == 0).Select(t => t.Cols));
        AssertCovers(plan, 47, 30);
        AssertCovers(TilePlan.Auto(2055, 1030, 8)!, 2055, 1030);
    }

    private static void AssertCovers(IReadOnlyList<TileRect> plan, int rows, int cols)
    {
        var covered = new int[rows, cols];
        foreach (TileRect t in plan)
            for (int i = t.Row; i < t.Row + t.Rows; i++)
                for (int j = t.Col; j < t.Col + t.Cols; j++)
                    covered[i, j]++;
        Assert.True(covered.Cast<int>().All(n => n == 1), "a position is covered twice or not at all.");
    }

    [Theory]
    [InlineData(Boundary.Circular, 20, 20, 10)]   // 2×2 tiles: every tile's halo wraps onto its neighbours around the torus
    [InlineData(Boundary.Circular, 15, 33, 10)]   // one tile row: a tile's top halo is its own bottom rows
    [InlineData(Boundary.Valid, 24, 25, 11)]
    public void CoordinateDescentTile_RoundsOfTheProtocol_KeepEveryOwnedCorrelationExact(Boundary boundary, int rows, int cols, int tile)
    {
        // After every round (a phase, its moves routed to the halos that hold them) a tile's c over its owned rectangle
        // must be Fᵀ(y − F z) of the whole image's current maps: a missed border move, a halo copy updated twice, a
        // wrong route or a wrong patch offset shows up here first.
        var (ws, f, y) = SolverTests.Problem(boundary, 4, 1, 3, rows, cols, seed: 46);
        var g = ws.Operator.Connectivity;
        var z = ws.Geometry.NewMaps();
        IReadOnlyList<TileRect> plan = TilePlan.Plan(ws.Geometry.MapRows, ws.Geometry.MapCols, tile, 3);
        var tiles = plan.Select(t => new CoordinateDescentTile(ws.Geometry, g, f, Lambda, t, y, z)).ToArray();
        var router = new TiledCoordinateDescent.Router(ws.Geometry, plan);
        var kept = ws.Geometry.NewMaps();
        var exact = ws.Geometry.NewMaps();
        var r = ws.Geometry.NewImage();
        long delivered = 0;
        BorderMove[][] incoming = plan.Select(_ => Array.Empty<BorderMove>()).ToArray();
        for (int round = 0; round < 9; round++)
        {
            // Round 0 refreshes; rounds 1..8 are two sweeps of four phases.
            TileStepResult[] results = tiles.Select((t, i) => t.Step(f, new TileStep(round - 1 < 0 ? -1 : (round - 1) % 4, 0, 0, round == 0, incoming[i]))).ToArray();
            incoming = router.Route(results, ref delivered);
            // Deliver now, so the c checked below has every move in (the next round would take them in first).
            for (int i = 0; i < tiles.Length; i++) tiles[i].Receive(incoming[i]);
            incoming = plan.Select(_ => Array.Empty<BorderMove>()).ToArray();
            foreach (var t in tiles)
            {
                t.Store(z);
                t.StoreCorrelation(kept);
            }
            ws.Operator.Synthesize(z, f, r);
            for (int i = 0; i < r.Length; i++) r.Data[i] = y.Data[i] - r.Data[i];
            ws.Operator.Adjoint(r, f, exact);
            double scale = exact.Data.Max(MathF.Abs);
            double worst = kept.Data.Zip(exact.Data, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4 * scale, $"round {round}: a tile's c is {worst:E2} off Fᵀ(y − F z) (max|c| {scale:E2}).");
        }
        Assert.True(delivered > 0, "no move crossed a border: the test exercises nothing.");
    }

    [Fact]
    public void TiledCoordinateDescent_Solve_DeliversOnlyToTilesWhoseHaloHoldsTheMove()
    {
        // 3×3 tiles on the valid boundary: the centre tile's border moves go to its neighbours, never back to itself,
        // and a corner tile's moves never reach the opposite corner.
        var geometry = new LayerGeometry(1, 2, 3, 28, 28, Boundary.Valid);   // maps 30×30, tiles of 10
        IReadOnlyList<TileRect> plan = TilePlan.Plan(30, 30, 10, 3);
        var router = new TiledCoordinateDescent.Router(geometry, plan);
        var results = new TileStepResult[plan.Count];
        for (int t = 0; t < results.Length; t++) results[t] = new TileStepResult(0, 0, 0, 0, []);
        results[4] = new TileStepResult(2, 2, 1, 0, [new BorderMove(10, 15, 0, 1, 1), new BorderMove(19, 19, 1, 1, 1)]);
        results[0] = new TileStepResult(1, 1, 1, 0, [new BorderMove(9, 9, 0, 1, 1)]);
        long delivered = 0;
        BorderMove[][] routed = router.Route(results, ref delivered);
        Assert.DoesNotContain(routed[4], m => m.Row >= 10 && m.Row < 20 && m.Col >= 10 && m.Col < 20);
        Assert.Equal([new BorderMove(9, 9, 0, 1, 1), new BorderMove(10, 15, 0, 1, 1)], routed[1]);   // above: rows ..11 and columns 8..21, in tile order
        Assert.Equal([new BorderMove(19, 19, 1, 1, 1)], routed[8]);                     // diagonal neighbour below right
        Assert.Equal([new BorderMove(9, 9, 0, 1, 1)], routed[4]);                       // the corner tile's move into the centre's halo
        Assert.Empty(routed[2]);                                                        // its frame starts at column 18
        Assert.Equal(routed.Sum(x => x.Length), delivered);
    }

    private static InferenceWorkspace WithThreads(InferenceWorkspace ws, int threads) =>
        new(new LayerOperator(ws.Geometry, ws.Operator.Connectivity, threads));
}
