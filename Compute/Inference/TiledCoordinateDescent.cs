using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>What a tiled solve cost: sweeps, rounds (one message to every tile each), and border moves delivered.</summary>
public readonly record struct TiledSolveStats(int Sweeps, int Rounds, long MovesDelivered)
{
    /// <summary>Bytes of border moves delivered, 20 per move and receiving tile.</summary>
    public long BytesDelivered => MovesDelivered * BorderMove.Bytes;
}

/// <summary>
/// The driver of a tiled coordinate-descent solve, written once against "run this round on every tile": each round asks
/// every tile for one phase (<see cref="CoordinateDescentTile.Step"/>), four phases to a sweep, with the untiled
/// solver's stopping rule (a sweep with no move on a freshly computed c). Between rounds the driver routes each tile's
/// border moves, in tile order, to the tiles whose halo holds them, so the result depends on the tile plan only, never
/// on threads, placement or schedule. In process the round is a parallel loop over <see cref="CoordinateDescentTile"/>s
/// (<see cref="Run"/>); on a cluster it is one message per tile from the coordinator, the moves riding on the requests
/// and replies that the phase barrier needs anyway.
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

    /// <summary>
    /// Runs the rounds of one solve. <paramref name="round"/> must run step i on tile i of <paramref name="plan"/> (the
    /// tiles built from the warm start) and return the results in the same order. The first round refreshes every tile
    /// and learns max|z|; each later round is one phase.
    /// </summary>
    public static TiledSolveStats Solve(LayerGeometry geometry, IReadOnlyList<TileRect> plan, CoordinateDescentOptions options, Func<TileStep[], TileStepResult[]> round)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(round);
        var router = new Router(geometry, plan);
        float tolerance = (float)Math.Max(options.Tolerance, CoordinateDescentInference.ToleranceFloor);
        BorderMove[][] incoming = plan.Select(_ => Array.Empty<BorderMove>()).ToArray();
        var steps = new TileStep[plan.Count];
        float scale = 0;
        int sweeps = 0, rounds = 0;
        long delivered = 0;
        bool fresh = false;
        while (sweeps < options.MaxSweeps)
        {
            if (!fresh)
            {
                // Every tile's halo is current once the last phase's moves are in, so each computes its exact c alone.
                for (int t = 0; t < steps.Length; t++) steps[t] = new TileStep(-1, tolerance, scale, true, incoming[t]);
                TileStepResult[] refreshed = Run(round, steps, ref rounds);
                scale = refreshed.Max(r => r.OwnedMax);
                incoming = router.Route(refreshed, ref delivered);
                fresh = true;
            }
            sweeps++;
            long sweepMoves = 0;
            TileStepResult[] results = [];
            for (int phase = 0; phase < 4; phase++)
            {
                for (int t = 0; t < steps.Length; t++) steps[t] = new TileStep(phase, tolerance, scale, false, incoming[t]);
                results = Run(round, steps, ref rounds);
                sweepMoves += results.Sum(r => (long)r.Moves);
                scale = Math.Max(scale, results.Max(r => r.Scale));   // max|z| only grows within a restart, as untiled
                incoming = router.Route(results, ref delivered);
            }
            if (sweepMoves == 0 && results.All(r => r.MovesSinceRestart == 0)) break;   // settled on an exact c: done
            if (sweepMoves == 0) fresh = false;
        }
        return new TiledSolveStats(sweeps, rounds, delivered);
    }

    /// <summary>Solves one image in process over the tiles of <paramref name="plan"/> with up to <paramref name="threads"/> threads; z in: warm start, out: the maps.</summary>
    internal static TiledSolveStats Run(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms atoms, FilterBank f,
        Tensor3 y, Tensor3 z, double lambda, CoordinateDescentOptions options, IReadOnlyList<TileRect> plan, int threads, SimdPath scanPath = SimdPath.Auto)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        var tiles = new CoordinateDescentTile[plan.Count];
        Parallel.For(0, tiles.Length, parallel, t => tiles[t] = new CoordinateDescentTile(geometry, connectivity, gram, atoms, lambda, plan[t], y, z, scanPath));
        TiledSolveStats stats = Solve(geometry, plan, options, steps =>
        {
            var results = new TileStepResult[steps.Length];
            Parallel.For(0, tiles.Length, parallel, t => results[t] = tiles[t].Step(f, steps[t]));
            return results;
        });
        Parallel.For(0, tiles.Length, parallel, t => tiles[t].Store(z));   // owned rectangles are disjoint
        return stats;
    }

    /// <summary>
    /// Solves one image in process with its maps compact throughout: each tile starts from the nonzeros of
    /// <paramref name="warm"/> in its frame (null: a cold start), and the result is the tiles' owned nonzeros written
    /// straight into the whole image's compact form. No dense whole-image z exists at any point; the tiles hold c dense
    /// (4 bytes per coefficient of their frames) and z as nonzeros, and each thread one dense frame of z for the tile it
    /// works on.
    /// </summary>
    internal static (SparseMaps Maps, TiledSolveStats Stats) RunCompact(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms atoms, FilterBank f,
        Tensor3 y, SparseMaps? warm, double lambda, CoordinateDescentOptions options, IReadOnlyList<TileRect> plan, int threads)
    {
        if (warm is not null && (warm.Planes != geometry.Maps || warm.Rows != geometry.MapRows || warm.Cols != geometry.MapCols))
            throw new ArgumentException($"the warm start is [{warm.Planes}, {warm.Rows}, {warm.Cols}]; the maps are [{geometry.Maps}, {geometry.MapRows}, {geometry.MapCols}].", nameof(warm));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        var tiles = new CoordinateDescentTile[plan.Count];
        long correlationBytes = plan.Sum(t =>
        {
            SweepFrame frame = CoordinateDescentTile.FrameOf(geometry, t);
            return 4L * frame.Rows * frame.Cols * gram.PaddedMaps;
        });
        if (correlationBytes >= LargeSolveBytes)
        {
            // The tiles' c is gigabytes allocated at once on a large image. The previous solve's tiles are garbage by
            // now, but the collector, sized by what survived its last full collection, let them stand beside the new
            // ones (measured: 11.9 GB peak instead of 6.3 for a 4096² image with 64 maps). One blocking collection,
            // a fraction of a second against a solve of minutes, keeps the peak at one set.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        }
        Parallel.For(0, tiles.Length, parallel, t =>
        {
            (int[] index, float[] value) = warm is null ? ([], []) : FrameNonzeros(geometry, gram.PaddedMaps, plan[t], warm);
            tiles[t] = new CoordinateDescentTile(geometry, connectivity, gram, atoms, lambda, plan[t], y, index, value, index.Length);
        });
        TiledSolveStats stats = Solve(geometry, plan, options, steps =>
        {
            var results = new TileStepResult[steps.Length];
            Parallel.For(0, tiles.Length, parallel, t => results[t] = tiles[t].Step(f, steps[t]));
            return results;
        });
        return (Gather(geometry, tiles), stats);
    }

    /// <summary>Tiles' c of at least this many bytes in all (1 GiB) makes a solve large: it collects the last one's garbage first.</summary>
    internal const long LargeSolveBytes = 1L << 30;

    /// <summary>
    /// The nonzeros of <paramref name="maps"/> in the frame of the tile owning <paramref name="owned"/>, as the tile keeps
    /// them: local map-last indices ascending, with their values.
    /// </summary>
    internal static (int[] Index, float[] Value) FrameNonzeros(LayerGeometry geometry, int paddedMaps, TileRect owned, SparseMaps maps)
    {
        SweepFrame frame = CoordinateDescentTile.FrameOf(geometry, owned);
        ReadOnlySpan<int> rowStart = maps.RowStart, columns = maps.NonzeroColumns;
        ReadOnlySpan<float> values = maps.NonzeroValues;
        var index = new List<int>();
        var value = new List<float>();
        int mapRows = geometry.MapRows, mapCols = geometry.MapCols;
        for (int i = 0; i < frame.Rows; i++)
        {
            int gr = Mod(frame.OriginRow + i, mapRows);
            for (int k = 0; k < geometry.Maps; k++)
            {
                int start = rowStart[k * mapRows + gr], end = rowStart[k * mapRows + gr + 1];
                if (start == end) continue;
                ReadOnlySpan<int> row = columns[start..end];
                // The frame's columns as runs of global columns (two around the torus when it wraps).
                for (int j0 = 0; j0 < frame.Cols;)
                {
                    int g0 = Mod(frame.OriginCol + j0, mapCols), run = Math.Min(frame.Cols - j0, mapCols - g0);
                    int n = row.BinarySearch(g0);
                    for (n = n >= 0 ? n : ~n; n < row.Length && row[n] < g0 + run; n++)
                    {
                        index.Add((i * frame.Cols + j0 + row[n] - g0) * paddedMaps + k);
                        value.Add(values[start + n]);
                    }
                    j0 += run;
                }
            }
        }
        int[] keys = [.. index];
        float[] items = [.. value];
        Array.Sort(keys, items);
        return (keys, items);
    }

    /// <summary>The whole image's compact maps from the tiles' owned nonzeros: counted per map row, then written band by band, left to right.</summary>
    private static SparseMaps Gather(LayerGeometry geometry, CoordinateDescentTile[] tiles)
    {
        var rowCounts = new int[geometry.Maps * geometry.MapRows + 1];
        foreach (CoordinateDescentTile tile in tiles) tile.CountOwned(rowCounts);   // counts in [0, rows)
        return SparseMaps.FromRowCounts(geometry.Maps, geometry.MapRows, geometry.MapCols, rowCounts, (cursor, columns, values) =>
        {
            foreach (CoordinateDescentTile tile in tiles.OrderBy(t => t.Owned.Row).ThenBy(t => t.Owned.Col)) tile.WriteOwned(cursor, columns, values);
        });
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    private static TileStepResult[] Run(Func<TileStep[], TileStepResult[]> round, TileStep[] steps, ref int rounds)
    {
        TileStepResult[] results = round(steps);
        if (results.Length != steps.Length) throw new InvalidOperationException($"a round returned {results.Length} results for {steps.Length} tiles.");
        rounds++;
        return results;
    }

    /// <summary>
    /// Which tiles' frames (rectangle plus halo of s−1, clipped on the valid boundary, around the torus on the circular)
    /// hold a position. A tile is not sent its own moves unless its frame wraps onto itself (one tile across a circular axis).
    /// </summary>
    internal sealed class Router
    {
        private readonly (int Origin, int Length)[] _rows, _cols;
        private readonly bool[] _selfWrap;
        private readonly int _mapRows, _mapCols;
        private readonly bool _circular;

        public Router(LayerGeometry geometry, IReadOnlyList<TileRect> plan)
        {
            ArgumentNullException.ThrowIfNull(geometry);
            ArgumentNullException.ThrowIfNull(plan);
            int m = geometry.FilterSize - 1;
            _circular = geometry.Boundary == Boundary.Circular;
            _mapRows = geometry.MapRows;
            _mapCols = geometry.MapCols;
            _rows = plan.Select(t => Axis(t.Row, t.Rows, _mapRows, m)).ToArray();
            _cols = plan.Select(t => Axis(t.Col, t.Cols, _mapCols, m)).ToArray();
            _selfWrap = plan.Select(t => _circular && (t.Rows + 2 * m > _mapRows || t.Cols + 2 * m > _mapCols)).ToArray();
        }

        /// <summary>Each tile's incoming moves for the next round: every tile's outgoing moves in tile order, kept where its frame holds them.</summary>
        public BorderMove[][] Route(TileStepResult[] results, ref long delivered)
        {
            var incoming = new List<BorderMove>[results.Length];
            for (int t = 0; t < results.Length; t++) incoming[t] = [];
            for (int source = 0; source < results.Length; source++)
                foreach (BorderMove move in results[source].Outgoing)
                    for (int t = 0; t < results.Length; t++)
                    {
                        if (t == source && !_selfWrap[t]) continue;
                        if (Holds(_rows[t], move.Row, _mapRows) && Holds(_cols[t], move.Col, _mapCols)) incoming[t].Add(move);
                    }
            var routed = new BorderMove[results.Length][];
            for (int t = 0; t < results.Length; t++)
            {
                routed[t] = incoming[t].ToArray();
                delivered += routed[t].Length;
            }
            return routed;
        }

        private bool Holds((int Origin, int Length) frame, int at, int mapLength)
        {
            int offset = at - frame.Origin;
            if (_circular) offset = ((offset % mapLength) + mapLength) % mapLength;
            return offset >= 0 && offset < frame.Length;
        }

        private (int Origin, int Length) Axis(int start, int length, int mapLength, int m)
        {
            if (_circular) return (start - m, length + 2 * m);
            int origin = Math.Max(0, start - m);
            return (origin, Math.Min(mapLength, start + length + m) - origin);
        }
    }
}
