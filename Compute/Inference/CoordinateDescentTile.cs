using System.Numerics.Tensors;
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

    internal CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned, Tensor3 y, Tensor3 z)
        : this(geometry, connectivity, gram, atoms, lambda, owned)
    {
        geometry.CheckImage(y, nameof(y));
        geometry.CheckMaps(z, nameof(z));
        LoadMaps(z);
        // Local image row x is covered by local map rows x..x+m: global image row origin + x (valid), or origin + m + x
        // around the torus (circular maps start where the image does).
        int shift = geometry.Boundary == Boundary.Circular ? geometry.FilterSize - 1 : 0;
        for (int c = 0; c < y.Planes; c++)
            for (int x = 0; x < _patch.Rows; x++)
            {
                int gr = Mod(_frame.OriginRow + shift + x, geometry.Rows);
                for (int w = 0; w < _patch.Cols; w++)
                    _patch[c, x, w] = y[c, gr, Mod(_frame.OriginCol + shift + w, geometry.Cols)];
            }
    }

    /// <summary>Sizes the frame and its buffers and builds the sweeper; the callers fill z and the patch.</summary>
    private CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(connectivity);
        ArgumentNullException.ThrowIfNull(gram);
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
        _local = new LayerGeometry(geometry.Inputs, geometry.Maps, geometry.FilterSize, rows - m, cols - m, Boundary.Valid);
        _patch = _local.NewImage();
        Tau = (float)(1 / lambda);
        _sweeper = new CoordinateDescentSweeper(gram, atoms ?? new CoordinateDescentInference.AtomNorms(gram, geometry), _c, _z, Tau, geometry, _frame, _outbox);
    }

    /// <summary>
    /// A tile built from its frame alone (<see cref="TileFrame.Cut"/>), as a remote tile is: the same state, to the bit,
    /// as the tile built from the whole image, without the whole image's y and z on the tile's machine.
    /// </summary>
    public static CoordinateDescentTile FromFrame(LayerGeometry geometry, Connectivity connectivity, FilterBank f, double lambda, TileRect owned, TileFrame frame)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(frame);
        var tile = new CoordinateDescentTile(geometry, connectivity, new FilterGram(f, connectivity), null, lambda, owned);
        if (frame.Patch.Planes != tile._patch.Planes || frame.Patch.Rows != tile._patch.Rows || frame.Patch.Cols != tile._patch.Cols)
            throw new ArgumentException($"the frame's patch is {frame.Patch.Planes}×{frame.Patch.Rows}×{frame.Patch.Cols}; tile {owned} needs {tile._patch.Planes}×{tile._patch.Rows}×{tile._patch.Cols}.", nameof(frame));
        if (frame.Maps.Planes != geometry.Maps || frame.Maps.Rows != tile._frame.Rows || frame.Maps.Cols != tile._frame.Cols)
            throw new ArgumentException($"the frame's maps are {frame.Maps.Planes}×{frame.Maps.Rows}×{frame.Maps.Cols}; tile {owned} needs {geometry.Maps}×{tile._frame.Rows}×{tile._frame.Cols}.", nameof(frame));
        frame.Patch.Data.CopyTo(tile._patch.Data, 0);
        CoordinateDescentInference.ToMapLast(frame.Maps.Data, tile._z, geometry.Maps, tile._frame.Rows * tile._frame.Cols, tile._gram.PaddedMaps);
        return tile;
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

    /// <summary>The owned rectangle's coefficients, K × rows × cols: what a remote tile sends back (<see cref="TileFrame.StoreOwned"/>).</summary>
    public Tensor3 OwnedMaps()
    {
        var maps = new Tensor3(_global.Maps, Owned.Rows, Owned.Cols);
        StoreOwned(_z, maps, Owned with { Row = 0, Col = 0 });
        return maps;
    }

    /// <summary>Writes the owned rectangle's correlation c into a whole-image map tensor (tests check it against Fᵀ(y − F z)).</summary>
    internal void StoreCorrelation(Tensor3 c) => StoreOwned(_c, c);

    private void StoreOwned(float[] source, Tensor3 z)
    {
        _global.CheckMaps(z, nameof(z));
        StoreOwned(source, z, Owned);
    }

    /// <summary>Writes the owned rectangle of <paramref name="source"/> (map-last over the frame) at <paramref name="at"/> in <paramref name="z"/>.</summary>
    private void StoreOwned(float[] source, Tensor3 z, TileRect at)
    {
        int kp = _gram.PaddedMaps;
        for (int k = 0; k < _global.Maps; k++)
            for (int i = 0; i < Owned.Rows; i++)
            {
                Span<float> row = z.Plane(k).Slice((at.Row + i) * z.Cols + at.Col, Owned.Cols);
                int from = ((_frame.OwnedRow + i) * _frame.Cols + _frame.OwnedCol) * kp + k;
                for (int j = 0; j < row.Length; j++, from += kp) row[j] = source[from];
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
    internal static (int Origin, int Length, int OwnedStart) Axis(int start, int length, int mapLength, int m, Boundary boundary)
    {
        if (boundary == Boundary.Circular) return (start - m, length + 2 * m, m);
        int origin = Math.Max(0, start - m), end = Math.Min(mapLength, start + length + m);
        return (origin, end - origin, start - origin);
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
