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
        // A warm start that is not zero, as in a later epoch: the frames must carry the neighbours' coefficients.
        var warm = ws.Geometry.NewMaps();
        CoordinateDescentInference.Run(ws, f, 1, y, warm, Lambda * 0.5, options);

        var expected = warm.Clone();
        CoordinateDescentInference.Run(ws, f, 1, y, expected, Lambda, options);
        var host = new FrameHost();
        var actual = warm.Clone();
        var remote = new InferenceWorkspace(new LayerOperator(ws.Geometry, ws.Operator.Connectivity)) { Tiles = host };
        CoordinateDescentInference.Run(remote, f, 1, y, actual, Lambda, options);

        Assert.True(host.Solves == 1, $"the tile host ran {host.Solves} solves; the case does not tile.");
        Assert.True(expected.Data.AsSpan().SequenceEqual(actual.Data), "tiles built from their frames gave other maps than tiles built from the whole image.");
    }

    [Fact]
    public void TileFrame_StoreOwned_MismatchedShape_IsRejected()
    {
        var geometry = new LayerGeometry(1, 2, 3, 20, 20, Boundary.Circular);
        var error = Assert.Throws<ArgumentException>(() => TileFrame.StoreOwned(geometry, new TileRect(0, 0, 10, 10), new Tensor3(2, 10, 9), geometry.NewMaps()));
        Assert.Contains("do not fit tile", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What a cluster's tile host does, in process: frames cut, tiles built from them, rounds in tile order, owned maps written back.</summary>
    private sealed class FrameHost : ITileHost
    {
        public int Solves { get; private set; }

        public TiledSolveStats Solve(TiledImage image)
        {
            Solves++;
            var tiles = image.Plan.Select(t => CoordinateDescentTile.FromFrame(image.Geometry, image.Connectivity, image.Filters, image.Lambda, t,
                TileFrame.Cut(image.Geometry, t, image.Y, image.Z))).ToArray();
            TiledSolveStats stats = TiledCoordinateDescent.Solve(image.Geometry, image.Plan, image.Options,
                steps => steps.Select((step, t) => tiles[t].Step(image.Filters, step)).ToArray());
            foreach (var tile in tiles) TileFrame.StoreOwned(image.Geometry, tile.Owned, tile.OwnedMaps(), image.Z);
            return stats;
        }
    }
}
