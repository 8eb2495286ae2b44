using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// Where the tiles of one large image's coordinate-descent solve run when not in this process (a cluster's tile
/// grains). An implementation cuts each tile's <see cref="TileFrame"/>, builds the tile from it
/// (<see cref="CoordinateDescentTile.FromFrame"/>), drives <see cref="TiledCoordinateDescent.Solve"/> with one message
/// per tile and round, and gathers the owned nonzeros in plan order (<see cref="TileFrame.Gather"/>), so the maps are
/// the in-process solve's bits.
/// </summary>
public interface ITileHost
{
    /// <summary>Solves <paramref name="image"/> from its warm start; returns the maps, compact, and what the solve cost.</summary>
    (SparseMaps Maps, TiledSolveStats Stats) Solve(TiledImage image);
}

/// <summary>One image's tiled solve: the layer, filters, λ, options and tile plan, the input and the warm start (null: cold).</summary>
public sealed record TiledImage(LayerGeometry Geometry, Connectivity Connectivity, FilterBank Filters, double Lambda, CoordinateDescentOptions Options,
    IReadOnlyList<TileRect> Plan, Tensor3 Y, SparseMaps? Warm);
