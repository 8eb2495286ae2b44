using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// The in-process driver of a tiled coordinate-descent solve: the tiles of one image (<see cref="CoordinateDescentTile"/>)
/// run a phase each in parallel, then exchange the moves near their edges, four phases to a sweep, with the untiled
/// solver's stopping rule (a sweep with no move on a freshly computed c). The exchange goes through this driver, as it
/// would through a coordinator: each phase's moves are gathered in tile order and handed to every tile, so the result
/// depends on the tile plan only, never on the number of threads or the schedule.
/// </summary>
public static class TiledCoordinateDescent
{
    /// <summary>
    /// Whether the plan can run tiled: more than one tile, and on the circular boundary every tile at least
    /// <see cref="TilePlan.MinimumTile"/> on each side (an axis held by one short tile would meet itself around the torus
    /// within one phase). Otherwise one untiled solve is exact and cheaper.
    /// </summary>
    public static bool Applies(LayerGeometry geometry, IReadOnlyList<TileRect> plan)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count < 2) return false;
        if (geometry.Boundary == Boundary.Valid) return true;
        int minimum = TilePlan.MinimumTile(geometry.FilterSize);
        return plan.All(t => t.Rows >= minimum && t.Cols >= minimum);
    }

    /// <summary>Solves one image over the tiles of <paramref name="plan"/> with up to <paramref name="threads"/> threads; z in: warm start, out: the maps. Returns the sweeps.</summary>
    internal static int Run(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms atoms, FilterBank f,
        Tensor3 y, Tensor3 z, double lambda, CoordinateDescentOptions options, IReadOnlyList<TileRect> plan, int threads)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        var tiles = new CoordinateDescentTile[plan.Count];
        Parallel.For(0, tiles.Length, parallel, t => tiles[t] = new CoordinateDescentTile(geometry, connectivity, gram, atoms, lambda, plan[t], y, z));
        float tolerance = (float)Math.Max(options.Tolerance, CoordinateDescentInference.ToleranceFloor);
        var moves = new int[tiles.Length];
        int sweeps = 0;
        bool fresh = false;
        while (sweeps < options.MaxSweeps)
        {
            if (!fresh)
            {
                // Every tile's halo is current after the last exchange, so each computes its exact c alone.
                float scale = tiles.Max(t => t.OwnedMaxMagnitude());
                Parallel.For(0, tiles.Length, parallel, t => tiles[t].Refresh(f, scale));
                fresh = true;
            }
            sweeps++;
            int sweepMoves = 0;
            for (int phase = 0; phase < 4; phase++)
            {
                Parallel.For(0, tiles.Length, parallel, t => moves[t] = tiles[t].Sweep(phase, tolerance));
                sweepMoves += moves.Sum();
                Exchange(tiles, parallel);
            }
            if (sweepMoves == 0 && tiles.All(t => t.MovesSinceRestart == 0)) break;   // settled on an exact c: done
            if (sweepMoves == 0) fresh = false;
        }
        foreach (CoordinateDescentTile tile in tiles) tile.Store(z);
        return sweeps;
    }

    /// <summary>
    /// Hands every tile the phase's border moves in tile order, and makes the tolerance's unit the largest max|z| any
    /// tile has seen (it only grows, as in the untiled solve). Returns the moves exchanged.
    /// </summary>
    internal static int Exchange(CoordinateDescentTile[] tiles, ParallelOptions parallel)
    {
        BorderMove[] all = tiles.SelectMany(t => t.TakeOutbox()).ToArray();
        float scale = tiles.Max(t => t.Scale);
        Parallel.For(0, tiles.Length, parallel, t =>
        {
            tiles[t].Scale = scale;
            if (all.Length > 0) tiles[t].Receive(all);
        });
        return all.Length;
    }
}
