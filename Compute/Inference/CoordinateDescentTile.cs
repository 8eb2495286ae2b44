using System.Numerics.Tensors;
using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// One tile of a large image's coordinate-descent solve: it owns a rectangle of the maps and holds, around it, a halo
/// of s−1 positions (clipped to the maps on the valid boundary, around the torus on the circular one) with copies of
/// the neighbours' coefficients, the input pixels those atoms cover, and c = Fᵀ(y − F z) over the frame (exact on the
/// owned part). A round is one phase: the tile sweeps one quarter of its rectangle (<see cref="Sweep"/>) and hands out
/// the moves it made within s−1 of its edge (<see cref="TakeOutbox"/>); before the next phase every tile takes in the
/// moves that land in its halo (<see cref="Receive"/>). Same-quarter regions of different tiles lie further apart than
/// the stencil reaches, so the tiles of a phase never read a stale correlation and the result is the untiled method's
/// with the segments visited in another order. A tile holds only its own state: it is a unit of work a shard can own.
/// </summary>
public sealed class CoordinateDescentTile
{
    private readonly LayerGeometry _global;
    private readonly Connectivity _connectivity;
    private readonly FilterGram _gram;
    private readonly SweepFrame _frame;
    private readonly float[] _z, _c;               // map-last over the frame
    private readonly Tensor3 _patch;               // the input pixels the frame's atoms cover
    private readonly LayerGeometry _local;         // the frame as a valid-boundary layer over the patch
    private readonly CoordinateDescentSweeper _sweeper;
    private readonly List<BorderMove> _outbox = new();
    private LayerOperator? _operator;

    /// <summary>A tile of the solve of <paramref name="y"/> for filters <paramref name="f"/>, starting from <paramref name="z"/> (the whole image's maps).</summary>
    public CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterBank f, double lambda, TileRect owned, Tensor3 y, Tensor3 z)
        : this(geometry, connectivity, new FilterGram(f, connectivity), null, lambda, owned, y, z)
    {
    }

    internal CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned, Tensor3 y, Tensor3 z,
        SimdPath scanPath = SimdPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(connectivity);
        ArgumentNullException.ThrowIfNull(gram);
        geometry.CheckImage(y, nameof(y));
        geometry.CheckMaps(z, nameof(z));
        if (owned.Row < 0 || owned.Col < 0 || owned.Rows < 1 || owned.Cols < 1 || owned.Row + owned.Rows > geometry.MapRows || owned.Col + owned.Cols > geometry.MapCols)
            throw new ArgumentOutOfRangeException(nameof(owned), owned, $"the tile must lie inside the maps ({geometry.MapRows}×{geometry.MapCols}).");
        _global = geometry;
        _connectivity = connectivity;
        _gram = gram;
        Owned = owned;
        int m = geometry.FilterSize - 1;
        var (rowOrigin, rows, ownedRow) = Axis(owned.Row, owned.Rows, geometry.MapRows, m, geometry.Boundary);
        var (colOrigin, cols, ownedCol) = Axis(owned.Col, owned.Cols, geometry.MapCols, m, geometry.Boundary);
        _frame = new SweepFrame(rows, cols, rowOrigin, colOrigin, ownedRow, ownedCol, owned.Rows, owned.Cols, Wraps: false);
        int kp = gram.PaddedMaps;
        _z = new float[rows * cols * kp];
        _c = new float[_z.Length];
        LoadMaps(z);
        // Local image row x is covered by local map rows x..x+m: global image row origin + x (valid), or origin + m + x
        // around the torus (circular maps start where the image does).
        _local = new LayerGeometry(geometry.Inputs, geometry.Maps, geometry.FilterSize, rows - m, cols - m, Boundary.Valid);
        _patch = _local.NewImage();
        int shift = geometry.Boundary == Boundary.Circular ? m : 0;
        for (int c = 0; c < y.Planes; c++)
            for (int x = 0; x < _patch.Rows; x++)
            {
                int gr = Mod(rowOrigin + shift + x, geometry.Rows);
                for (int w = 0; w < _patch.Cols; w++)
                    _patch[c, x, w] = y[c, gr, Mod(colOrigin + shift + w, geometry.Cols)];
            }
        Tau = (float)(1 / lambda);
        _sweeper = new CoordinateDescentSweeper(gram, atoms ?? new CoordinateDescentInference.AtomNorms(gram, geometry), _c, _z, Tau, geometry, _frame, _outbox, scanPath);
    }

    /// <summary>The rectangle of map positions this tile moves.</summary>
    public TileRect Owned { get; }

    /// <summary>1/λ, the soft threshold of a move.</summary>
    public float Tau { get; }

    /// <summary>Moves made since the last restart.</summary>
    public int MovesSinceRestart => _sweeper.MovesSinceRestart;

    /// <summary>max|z| as this tile knows it: the tolerance's unit. The driver keeps it equal across tiles between phases.</summary>
    public float Scale
    {
        get => _sweeper.Scale;
        set => _sweeper.Scale = value;
    }

    /// <summary>max|z| over the owned rectangle.</summary>
    public float OwnedMaxMagnitude() => _sweeper.OwnedMaxMagnitude();

    /// <summary>
    /// c = Fᵀ(y − F z) over the frame from the tile's own z (owned and halo) and patch, exact on the owned rectangle;
    /// then every segment is dirty and the tolerance's unit is <paramref name="scale"/> (max|z| over the whole image).
    /// Costs one synthesis and one adjoint of the frame.
    /// </summary>
    public void Refresh(FilterBank f, float scale)
    {
        ArgumentNullException.ThrowIfNull(f);
        _local.CheckFilters(f, nameof(f));
        _operator ??= new LayerOperator(_local, _connectivity);
        int plane = _frame.Rows * _frame.Cols, kp = _gram.PaddedMaps;
        var maps = _local.NewMaps();   // transient: K·frame floats, only while refreshing
        CoordinateDescentInference.FromMapLast(_z, maps.Data, _local.Maps, plane, kp);
        var r = _local.NewImage();
        _operator.Synthesize(maps, f, r);
        TensorPrimitives.Subtract(_patch.Data, r.Data, r.Data);
        _operator.Adjoint(r, f, maps);
        CoordinateDescentInference.ToMapLast(maps.Data, _c, _local.Maps, plane, kp);
        _sweeper.Restart(scale);
    }

    /// <summary>
    /// Sweeps quarter <paramref name="phase"/> (0..3: top-left, top-right, bottom-left, bottom-right, halves aligned to
    /// segments) of the owned rectangle once; returns the moves made.
    /// </summary>
    public int Sweep(int phase, float tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(phase);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(phase, 3);
        int rowHalf = (_sweeper.SegmentRows + 1) / 2, colHalf = (_sweeper.SegmentCols + 1) / 2;
        (int sr0, int sr1) = (phase & 2) == 0 ? (0, rowHalf) : (rowHalf, _sweeper.SegmentRows);
        (int sc0, int sc1) = (phase & 1) == 0 ? (0, colHalf) : (colHalf, _sweeper.SegmentCols);
        return _sweeper.Sweep(tolerance, sr0, sr1, sc0, sc1);
    }

    /// <summary>
    /// One round of the tile protocol, the whole of what a remote tile needs per message: take in the moves routed to
    /// this tile from the previous phase; when asked, recompute c (and report max|z| over the owned rectangle); then,
    /// for a phase 0..3, adopt the driver's scale and sweep that quarter. The reply carries the moves made near the
    /// tile's edges.
    /// </summary>
    public TileStepResult Step(FilterBank f, TileStep step)
    {
        ArgumentNullException.ThrowIfNull(step.Incoming);
        Receive(step.Incoming);
        float ownedMax = 0;
        if (step.Refresh)
        {
            Refresh(f, step.Scale);
            ownedMax = OwnedMaxMagnitude();
        }
        int moves = 0;
        if (step.Phase >= 0)
        {
            Scale = step.Scale;
            moves = Sweep(step.Phase, step.Tolerance);
        }
        return new TileStepResult(moves, MovesSinceRestart, Scale, ownedMax, TakeOutbox());
    }

    /// <summary>The moves made within s−1 of the owned rectangle's edge since the last call, in the order made.</summary>
    public BorderMove[] TakeOutbox()
    {
        BorderMove[] moves = _outbox.ToArray();
        _outbox.Clear();
        return moves;
    }

    /// <summary>Takes in the moves of a phase (from every tile, this one included): those that land in the halo update z and c.</summary>
    public void Receive(ReadOnlySpan<BorderMove> moves)
    {
        foreach (ref readonly BorderMove move in moves) _sweeper.Receive(move);
    }

    /// <summary>Writes the owned rectangle's coefficients into the whole image's maps.</summary>
    public void Store(Tensor3 z) => StoreOwned(_z, z);

    /// <summary>Writes the owned rectangle's correlation c into a whole-image map tensor (tests check it against Fᵀ(y − F z)).</summary>
    internal void StoreCorrelation(Tensor3 c) => StoreOwned(_c, c);

    private void StoreOwned(float[] source, Tensor3 z)
    {
        _global.CheckMaps(z, nameof(z));
        int kp = _gram.PaddedMaps;
        for (int k = 0; k < _global.Maps; k++)
            for (int i = 0; i < Owned.Rows; i++)
            {
                Span<float> row = z.Plane(k).Slice((Owned.Row + i) * z.Cols + Owned.Col, Owned.Cols);
                int at = ((_frame.OwnedRow + i) * _frame.Cols + _frame.OwnedCol) * kp + k;
                for (int j = 0; j < row.Length; j++, at += kp) row[j] = source[at];
            }
    }

    /// <summary>Reads the frame's coefficients (owned and halo) from the whole image's maps.</summary>
    private void LoadMaps(Tensor3 z)
    {
        int kp = _gram.PaddedMaps;
        for (int k = 0; k < _global.Maps; k++)
        {
            ReadOnlySpan<float> plane = z.ReadPlane(k);
            for (int i = 0; i < _frame.Rows; i++)
            {
                int gr = Mod(_frame.OriginRow + i, _global.MapRows);
                for (int j = 0, at = i * _frame.Cols * kp + k; j < _frame.Cols; j++, at += kp)
                    _z[at] = plane[gr * z.Cols + Mod(_frame.OriginCol + j, _global.MapCols)];
            }
        }
    }

    /// <summary>The frame along one axis: its first global index, its length and where the owned part starts in it.</summary>
    private static (int Origin, int Length, int OwnedStart) Axis(int start, int length, int mapLength, int m, Boundary boundary)
    {
        if (boundary == Boundary.Circular) return (start - m, length + 2 * m, m);
        int origin = Math.Max(0, start - m), end = Math.Min(mapLength, start + length + m);
        return (origin, end - origin, start - origin);
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
