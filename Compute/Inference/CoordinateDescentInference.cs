using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// Locally greedy coordinate descent (LGCD; Moreau, Oudre and Vayatis 2018, the inner solver of DiCoDiLe) for one image,
/// p = 1, either boundary: <c>min_z λ/2 ‖F z − y‖² + ‖z‖₁</c>.
/// <para>
/// It keeps the correlation c = Fᵀ(y − F z). Along one coefficient z_k(p) the objective is a 1-D lasso whose minimiser
/// is <c>ST(c_k(p) + n_k z_k(p), 1/λ) / n_k</c> (n_k = ‖F e_{k,p}‖², ST the soft threshold; with the valid boundary n_k
/// depends on how much of the atom the image crops), so each coefficient's best move is known from c. The maps are cut
/// into small square segments (<see cref="SegmentSize"/>); a sweep visits them in order and, in each, applies the single
/// move of largest magnitude over all maps, then subtracts Δ·G (<see cref="FilterGram"/>) from c around it, which costs
/// K·(2s−1)² whatever the image size. With the valid boundary a move whose atom crosses the image's edge also adds back
/// what the stencil counted outside the image. A segment is rescanned only when a move near it changed its part of c,
/// so once the maps are nearly optimal a sweep costs little more than the moves it makes.
/// </para>
/// With sparse maps this is far cheaper than a proximal-gradient iteration, whose adjoint costs K·C·H·W·s²; it starts
/// with one such adjoint to form c. The order is fixed, so the result is deterministic.
/// <para>
/// Maps at least twice the tile size on a side are solved in spatial tiles instead (<see cref="TilePlan"/>,
/// <see cref="TiledCoordinateDescent"/>): the same moves, the segments visited quarter-tile by quarter-tile, the tiles of
/// a phase on the layer operator's threads. The tiles depend on the image size only, so the result does not depend on
/// the threads.
/// </para>
/// </summary>
public static class CoordinateDescentInference
{
    /// <param name="z">In: the warm start. Out: the inferred maps.</param>
    /// <param name="filterVersion">Identifies f for the cached <see cref="FilterGram"/>; pass a new value whenever f changes.</param>
    public static InferenceStats Run(InferenceWorkspace ws, FilterBank f, long filterVersion, Tensor3 y, Tensor3 z, double lambda, CoordinateDescentOptions options) =>
        Run(ws, f, filterVersion, y, z, lambda, options, SimdPath.Auto);

    /// <summary>As the public overload, with the width of the best-move search forced (tests run every width; the moves are the same).</summary>
    internal static InferenceStats Run(InferenceWorkspace ws, FilterBank f, long filterVersion, Tensor3 y, Tensor3 z, double lambda, CoordinateDescentOptions options, SimdPath scanPath)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(options);
        CheckArguments(options, lambda);
        LayerGeometry geometry = ws.Geometry;
        Check(geometry);
        geometry.CheckImage(y, nameof(y));
        geometry.CheckMaps(z, nameof(z));
        (FilterGram gram, AtomNorms atoms) = GramFor(ws, f, filterVersion);
        int threads = ws.Operator.DegreeOfParallelism;
        if (TilesFor(geometry, options) is { } plan)
        {
            TiledSolveStats tiled = TiledCoordinateDescent.Run(geometry, ws.Operator.Connectivity, gram, atoms, f, y, z, lambda, options, plan, threads, scanPath);
            return SparseCodingObjective.Evaluate(ws, f, y, z, lambda, 1, tiled.Sweeps);
        }

        // The sweeps run on map-last copies [H, W, K̄] of z and c: a segment's coefficients and a move's stencil are then
        // contiguous runs over the maps instead of K strided planes.
        int plane = geometry.MapRows * geometry.MapCols, kp = gram.PaddedMaps;
        (float[] zt, float[] ct) = ws.MapLastBuffers(plane * kp);
        ToMapLast(z.Data, zt, geometry.Maps, plane, kp);
        var solver = new CoordinateDescentSweeper(gram, atoms, ct, zt, (float)(1 / lambda), geometry, SweepFrame.Whole(geometry), scanPath: scanPath);
        int sweeps = 0;
        bool fresh = false;
        while (sweeps < options.MaxSweeps)
        {
            if (!fresh)
            {
                // c = Fᵀ(y − F z), from scratch: at the start, and again once the sweeps settle, because thousands of
                // stencil updates leave float rounding in c and the solution must be optimal for the true one.
                Correlation(ws, f, y, z, ws.Maps1);
                ToMapLast(ws.Maps1.Data, ct, geometry.Maps, plane, kp);
                solver.Restart(solver.OwnedMaxMagnitude());
                fresh = true;
            }
            sweeps++;
            int moves = solver.Sweep((float)Math.Max(options.Tolerance, ToleranceFloor));
            if (moves == 0 && solver.MovesSinceRestart == 0) break;   // settled on an exact c: done
            if (moves == 0)
            {
                FromMapLast(zt, z.Data, geometry.Maps, plane, kp);
                fresh = false;
            }
        }
        FromMapLast(zt, z.Data, geometry.Maps, plane, kp);
        return SparseCodingObjective.Evaluate(ws, f, y, z, lambda, 1, sweeps);
    }

    /// <summary>The spatial tiles the solve of maps of <paramref name="geometry"/> runs in, or null when it runs whole.</summary>
    public static IReadOnlyList<TileRect>? TilesFor(LayerGeometry geometry, CoordinateDescentOptions options)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<TileRect>? plan = options.Tile > 0
            ? TilePlan.Plan(geometry.MapRows, geometry.MapCols, options.Tile, geometry.FilterSize)
            : TilePlan.Auto(geometry.MapRows, geometry.MapCols, geometry.FilterSize);
        return plan is not null && TiledCoordinateDescent.Applies(geometry, plan) ? plan : null;
    }

    private static void CheckArguments(CoordinateDescentOptions options, double lambda)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxSweeps);
        if (!(options.Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "the tolerance must be ≥ 0.");
        if (!(lambda > 0) || double.IsInfinity(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be a finite number > 0.");
    }

    /// <summary>
    /// The tiled solve (<paramref name="plan"/> from <see cref="TilesFor"/>) with the maps compact from end to end: the
    /// warm start is read as nonzeros (null: cold), the tiles keep z as nonzeros, and the result comes back in compact
    /// form with its objective. Same moves, so the same maps, as <see cref="Run"/> on the same plan; the memory is c over
    /// the tiles' frames plus 8 bytes per nonzero, about half of what a dense z beside them would add.
    /// </summary>
    public static (SparseMaps Maps, InferenceStats Stats) RunTiled(InferenceWorkspace ws, FilterBank f, long filterVersion, Tensor3 y, SparseMaps? warm, double lambda, CoordinateDescentOptions options, IReadOnlyList<TileRect> plan)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(plan);
        CheckArguments(options, lambda);
        LayerGeometry geometry = ws.Geometry;
        Check(geometry);
        geometry.CheckImage(y, nameof(y));
        if (!TiledCoordinateDescent.Applies(geometry, plan)) throw new ArgumentException("the plan does not tile these maps; see TilesFor.", nameof(plan));
        (FilterGram gram, AtomNorms atoms) = GramFor(ws, f, filterVersion);
        (SparseMaps maps, TiledSolveStats tiled) = ws.Tiles is { } host
            ? host.Solve(new TiledImage(geometry, ws.Operator.Connectivity, f, lambda, options, plan, y, warm))
            : TiledCoordinateDescent.RunCompact(geometry, ws.Operator.Connectivity, gram, atoms, f, y, warm, lambda, options, plan, ws.Operator.DegreeOfParallelism);
        return (maps, SparseCodingObjective.Evaluate(ws, f, y, maps, lambda, tiled.Sweeps));
    }

    /// <summary>
    /// The smallest relative move that counts: c carries float rounding of about 1e-7 of its scale, so smaller moves would
    /// chase noise forever instead of ending the solve.
    /// </summary>
    public const double ToleranceFloor = 1e-6;

    /// <summary>
    /// The side of a segment for filters of size s: ⌈s/2⌉. Smaller segments make more moves per sweep and rescan less
    /// after each (a move dirties the segments its (2s−1)² window meets); on SPORCO's 64 filters of 8×8, segments of 4
    /// and 2 ran an epoch in half the time of segments of 8 and reached the same objective.
    /// </summary>
    public static int SegmentSize(int filterSize) => (filterSize + 1) / 2;

    /// <summary>c = Fᵀ(y − F z).</summary>
    private static void Correlation(InferenceWorkspace ws, FilterBank f, Tensor3 y, Tensor3 z, Tensor3 c)
    {
        Tensor3 r = ws.Residual;
        ws.Operator.Synthesize(z, f, r);
        TensorPrimitives.Subtract(y.Data, r.Data, r.Data);
        ws.Operator.Adjoint(r, f, c);
    }

    /// <summary>destination[p, k] = source[k, p] for k &lt; K, zero for the padding maps; in blocks of positions that stay in cache.</summary>
    internal static void ToMapLast(float[] source, float[] destination, int maps, int plane, int kp)
    {
        for (int p0 = 0; p0 < plane; p0 += TransposeBlock)
        {
            int count = Math.Min(TransposeBlock, plane - p0);
            Array.Clear(destination, p0 * kp, count * kp);
            for (int k = 0; k < maps; k++)
            {
                ReadOnlySpan<float> from = source.AsSpan(k * plane + p0, count);
                for (int p = 0; p < count; p++) destination[(p0 + p) * kp + k] = from[p];
            }
        }
    }

    /// <summary>destination[k, p] = source[p, k] for k &lt; K.</summary>
    internal static void FromMapLast(float[] source, float[] destination, int maps, int plane, int kp)
    {
        for (int p0 = 0; p0 < plane; p0 += TransposeBlock)
        {
            int count = Math.Min(TransposeBlock, plane - p0);
            for (int k = 0; k < maps; k++)
            {
                Span<float> to = destination.AsSpan(k * plane + p0, count);
                for (int p = 0; p < count; p++) to[p] = source[(p0 + p) * kp + k];
            }
        }
    }

    private const int TransposeBlock = 64;

    /// <summary>Circular maps must be at least 2s−1 on each side, or an atom would meet itself around the torus.</summary>
    public static void Check(LayerGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (geometry.Boundary != Boundary.Circular) return;
        int need = 2 * geometry.FilterSize - 1;
        if (geometry.Rows < need || geometry.Cols < need)
            throw new ArgumentException($"coordinate descent with the circular boundary needs maps of at least {need}×{need} (2s−1) for filters of {geometry.FilterSize}; got {geometry.Cols}×{geometry.Rows}.", nameof(geometry));
    }

    /// <summary>The stencil and the atom norms for filter version <paramref name="version"/>, cached in the workspace (one geometry).</summary>
    private static (FilterGram Gram, AtomNorms Norms) GramFor(InferenceWorkspace ws, FilterBank f, long version)
    {
        if (ws.Gram is { } cached && cached.Version == version) return (cached.Gram, cached.Norms);
        var gram = new FilterGram(f, ws.Operator.Connectivity);
        var norms = new AtomNorms(gram, ws.Geometry);
        ws.Gram = (version, gram, norms);
        return (gram, norms);
    }

    /// <summary>
    /// n_k(p) = ‖F e_{k,p}‖² and its inverse (0 for a dead filter, whose coefficients go to 0), per class of positions whose
    /// atoms the image crops alike, stored [row class, column class, K̄]. Circular maps have one class of each; valid
    /// maps start s−1 before the image, so an atom at row i covers image rows i − (s−1) + u and loses the taps outside.
    /// </summary>
    internal sealed class AtomNorms
    {
        private readonly int[] _rowClass, _colClass;
        private readonly int _colClasses, _paddedMaps;

        public AtomNorms(FilterGram gram, LayerGeometry geometry)
        {
            bool valid = geometry.Boundary == Boundary.Valid;
            _paddedMaps = gram.PaddedMaps;
            (_rowClass, var rows) = CropClasses(geometry.MapRows, geometry.Rows, gram.Size - 1, valid);
            (_colClass, var cols) = CropClasses(geometry.MapCols, geometry.Cols, gram.Size - 1, valid);
            _colClasses = cols.Count;
            int s = gram.Size, kp = gram.PaddedMaps;
            Norms = new float[rows.Count * cols.Count * kp];
            Inverses = new float[Norms.Length];
            for (int a = 0; a < rows.Count; a++)
                for (int b = 0; b < cols.Count; b++)
                {
                    int at = (a * cols.Count + b) * kp;
                    for (int k = 0; k < gram.Maps; k++)
                    {
                        double sum = 0;
                        for (int c = 0; c < gram.Inputs; c++)
                            for (int ur = rows[a].Low; ur <= rows[a].High; ur++)
                                for (int uc = cols[b].Low; uc <= cols[b].High; uc++)
                                {
                                    double tap = gram.Taps[((c * s + ur) * s + uc) * kp + k];
                                    sum += tap * tap;
                                }
                        Norms[at + k] = (float)sum;
                        Inverses[at + k] = sum > 0 ? (float)(1 / sum) : 0;
                    }
                }
        }

        public float[] Norms { get; }
        public float[] Inverses { get; }

        /// <summary>Where the K̄ norms of map position (i, j) start in <see cref="Norms"/> and <see cref="Inverses"/>.</summary>
        public int Offset(int i, int j) => (_rowClass[i] * _colClasses + _colClass[j]) * _paddedMaps;

        /// <summary>The row's part of <see cref="Offset"/>: Offset(i, j) = RowPart(i) + ColumnPart(j).</summary>
        public int RowPart(int i) => _rowClass[i] * _colClasses * _paddedMaps;

        /// <summary>The column's part of <see cref="Offset"/>.</summary>
        public int ColumnPart(int j) => _colClass[j] * _paddedMaps;

        /// <summary>Per map row (or column), the class of taps u that land inside the image, and each class's range.</summary>
        private static (int[] Class, List<(int Low, int High)> Ranges) CropClasses(int mapLength, int imageLength, int m, bool valid)
        {
            var index = new int[mapLength];
            var ranges = new List<(int, int)>();
            for (int i = 0; i < mapLength; i++)
            {
                (int, int) range = valid ? (Math.Max(0, m - i), Math.Min(m, imageLength - 1 + m - i)) : (0, m);
                int found = ranges.IndexOf(range);
                if (found < 0)
                {
                    found = ranges.Count;
                    ranges.Add(range);
                }
                index[i] = found;
            }
            return (index, ranges);
        }
    }
}
