using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Inference;

/// <summary>A tile built from its frame alone (as a remote tile is) runs the in-process solve's bits.</summary>
public class TileFrameTests
{
    private const double Lambda = 4;

    [Theory]
    [InlineData(Boundary.Circular, 25, 23, 10)]   // unequal tiles at the edge, frames around the torus
    [InlineData(Boundary.Circular, 14, 31, 10)]   // one tile across the rows: its frame wraps onto itself
    [InlineData(Boundary.Valid, 23, 21, 10)]      // frames clipped at the maps' edge
    public void TileHost_TilesFromTheirFrames_SameBitsAsInProcessTiles(Boundary boundary, int rows, int cols, int tile)
    {
        var (ws, f, y) = SolverTests.Problem(boundary, 4, 2, 3, rows, cols, seed: 43);
        var options = new CoordinateDescentOptions { MaxSweeps = 100_000, Tolerance = 1e-6, Tile = tile };
        var plan = CoordinateDescentInference.TilesFor(ws.Geometry, options);
        Assert.NotNull(plan);
        // A warm start that is not zero, as in a later epoch: the frames must carry the neighbours' coefficients.
        var (warm, _) = CoordinateDescentInference.RunTiled(ws, f, 1, y, null, Lambda * 0.5, options, plan);

        var (expected, expectedStats) = CoordinateDescentInference.RunTiled(ws, f, 1, y, warm, Lambda, options, plan);
        var host = new FrameHost();
        var remote = new InferenceWorkspace(new LayerOperator(ws.Geometry, ws.Operator.Connectivity)) { Tiles = host };
        var (actual, actualStats) = CoordinateDescentInference.RunTiled(remote, f, 1, y, warm, Lambda, options, plan);

        Assert.Equal(1, host.Solves);
        Assert.True(expected.Count > 0, "a degenerate test problem: no nonzeros.");
        Assert.True(expected.RowStart.SequenceEqual(actual.RowStart) && expected.NonzeroColumns.SequenceEqual(actual.NonzeroColumns)
            && expected.NonzeroValues.SequenceEqual(actual.NonzeroValues), "tiles built from their frames gave other maps than tiles built from the whole image.");
        Assert.Equal(expectedStats.Objective, actualStats.Objective);
    }

    [Fact]
    public void TileFrame_Gather_PositionOutsideItsTile_IsRejected()
    {
        var geometry = new LayerGeometry(1, 2, 3, 20, 20, Boundary.Circular);
        TileRect[] plan = [new(0, 0, 10, 20), new(10, 0, 10, 20)];
        var error = Assert.Throws<ArgumentException>(() => TileFrame.Gather(geometry, plan, [([0, 400], [1f, 2f]), ([], [])]));
        Assert.Contains("outside its", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What a cluster's tile host does, in process: frames cut, tiles built from them, rounds in tile order, owned maps written back.</summary>
    private sealed class FrameHost : ITileHost
    {
        public int Solves { get; private set; }

        public (SparseMaps Maps, TiledSolveStats Stats) Solve(TiledImage image)
        {
            Solves++;
            var tiles = image.Plan.Select(t => CoordinateDescentTile.FromFrame(image.Geometry, image.Connectivity, image.Filters, image.Lambda, t,
                TileFrame.Cut(image.Geometry, t, image.Y, image.Warm))).ToArray();
            TiledSolveStats stats = TiledCoordinateDescent.Solve(image.Geometry, image.Plan, image.Options,
                steps => steps.Select((step, t) => tiles[t].Step(image.Filters, step)).ToArray());
            return (TileFrame.Gather(image.Geometry, image.Plan, [.. tiles.Select(t => t.OwnedNonzeros())]), stats);
        }
    }
}
