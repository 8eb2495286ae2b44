using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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
    // Per thread: the dense z a tile works on during one call, all zero between calls (a tile scatters its nonzeros in
    // and clears exactly those again), and the merge buffers of its re-compaction; one operator for the refresh, kept
    // while the frames it meets have one geometry (interior tiles all do).
    [ThreadStatic] private static float[]? s_scratch;
    [ThreadStatic] private static int[]? s_mergeIndex;
    [ThreadStatic] private static float[]? s_mergeValue;
    [ThreadStatic] private static RefreshBuffers? s_refresh;

    private readonly LayerGeometry _global;
    private readonly Connectivity _connectivity;
    private readonly FilterGram _gram;
    private readonly SweepFrame _frame;
    private readonly float[] _c;                   // map-last over the frame, dense: every owned entry is scanned
    private readonly int _length;                  // frame positions × K̄
    private int[] _index = [];                     // z's nonzeros: local map-last indices, ascending
    private float[] _value = [];
    private int _count;
    private float[]? _attached;                    // the dense z while a call works on it
    private Region _region;                        // the part of it scattered from the nonzeros
    private readonly List<(int From, int To)> _scattered = new();   // entry ranges scattered
    private int _depth;
    private readonly List<int> _written = new();
    private readonly Tensor3 _patch;               // the input pixels the frame's atoms cover
    private readonly LayerGeometry _local;         // the frame as a valid-boundary layer over the patch
    private readonly CoordinateDescentSweeper _sweeper;
    private readonly List<BorderMove> _outbox = new();

    /// <summary>A tile of the solve of <paramref name="y"/> for filters <paramref name="f"/>, starting from <paramref name="z"/> (the whole image's maps).</summary>
    public CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterBank f, double lambda, TileRect owned, Tensor3 y, Tensor3 z)
        : this(geometry, connectivity, new FilterGram(f, connectivity), null, lambda, owned, y, z)
    {
    }

    internal CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned, Tensor3 y, Tensor3 z,
        SimdPath scanPath = SimdPath.Auto)
        : this(geometry, connectivity, gram, atoms, lambda, owned, y, patch: false, scanPath)
    {
        geometry.CheckMaps(z, nameof(z));
        LoadMaps(z);
    }

    /// <summary>
    /// A tile starting from the nonzeros of its frame (owned and halo): <paramref name="count"/> entries of
    /// <paramref name="index"/> (local map-last indices over the frame, see <see cref="FrameOf"/>, ascending, distinct)
    /// and <paramref name="value"/>. The tile takes the arrays over.
    /// </summary>
    /// <param name="patch">When true, <paramref name="y"/> is the frame's patch already (<see cref="TileFrame"/>), not the whole image.</param>
    internal CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned, Tensor3 y,
        int[] index, float[] value, int count, bool patch = false, SimdPath scanPath = SimdPath.Auto)
        : this(geometry, connectivity, gram, atoms, lambda, owned, y, patch, scanPath)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(value);
        if (count < 0 || count > index.Length || count > value.Length) throw new ArgumentOutOfRangeException(nameof(count), count, "more entries than the arrays hold.");
        for (int n = 0; n < count; n++)
            if (index[n] < 0 || index[n] >= _length || (n > 0 && index[n] <= index[n - 1]))
                throw new ArgumentException($"entry {n}: index {index[n]} is outside the frame's {_length} or not ascending.", nameof(index));
        (_index, _value, _count) = (index, value, count);
    }

    private CoordinateDescentTile(LayerGeometry geometry, Connectivity connectivity, FilterGram gram, CoordinateDescentInference.AtomNorms? atoms, double lambda, TileRect owned, Tensor3 y, bool patch,
        SimdPath scanPath)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(connectivity);
        ArgumentNullException.ThrowIfNull(gram);
        if (!patch) geometry.CheckImage(y, nameof(y));
        if (owned.Row < 0 || owned.Col < 0 || owned.Rows < 1 || owned.Cols < 1 || owned.Row + owned.Rows > geometry.MapRows || owned.Col + owned.Cols > geometry.MapCols)
            throw new ArgumentOutOfRangeException(nameof(owned), owned, $"the tile must lie inside the maps ({geometry.MapRows}×{geometry.MapCols}).");
        _global = geometry;
        _connectivity = connectivity;
        _gram = gram;
        Owned = owned;
        int m = geometry.FilterSize - 1;
        _frame = FrameOf(geometry, owned);
        int rows = _frame.Rows, cols = _frame.Cols, rowOrigin = _frame.OriginRow, colOrigin = _frame.OriginCol;
        _length = rows * cols * gram.PaddedMaps;
        _c = new float[_length];
        // Local image row x is covered by local map rows x..x+m: global image row origin + x (valid), or origin + m + x
        // around the torus (circular maps start where the image does).
        _local = new LayerGeometry(geometry.Inputs, geometry.Maps, geometry.FilterSize, rows - m, cols - m, Boundary.Valid);
        _patch = _local.NewImage();
        int shift = geometry.Boundary == Boundary.Circular ? m : 0;
        if (patch)
        {
            _local.CheckImage(y, nameof(y));
            y.Data.CopyTo(_patch.Data, 0);
        }
        else
        {
            for (int c = 0; c < y.Planes; c++)
                for (int x = 0; x < _patch.Rows; x++)
                {
                    int gr = Mod(rowOrigin + shift + x, geometry.Rows);
                    for (int w = 0; w < _patch.Cols; w++)
                        _patch[c, x, w] = y[c, gr, Mod(colOrigin + shift + w, geometry.Cols)];
                }
        }
        Tau = (float)(1 / lambda);
        _sweeper = new CoordinateDescentSweeper(gram, atoms ?? new CoordinateDescentInference.AtomNorms(gram, geometry), _c, [], Tau, geometry, _frame, _outbox, scanPath);
        _sweeper.Written = _written;
    }

    /// <summary>
    /// The frame of the tile owning <paramref name="owned"/>: the rectangle plus a halo of s−1 (clipped to the maps on
    /// the valid boundary, around the torus on the circular one). Local map-last index of global (row, col, map k):
    /// ((row − OriginRow) · Cols + (col − OriginCol)) · K̄ + k, positions taken modulo the maps around the torus.
    /// </summary>
    internal static SweepFrame FrameOf(LayerGeometry geometry, TileRect owned)
    {
        int m = geometry.FilterSize - 1;
        var (rowOrigin, rows, ownedRow) = Axis(owned.Row, owned.Rows, geometry.MapRows, m, geometry.Boundary);
        var (colOrigin, cols, ownedCol) = Axis(owned.Col, owned.Cols, geometry.MapCols, m, geometry.Boundary);
        return new SweepFrame(rows, cols, rowOrigin, colOrigin, ownedRow, ownedCol, owned.Rows, owned.Cols, Wraps: false);
    }

    /// <summary>
    /// A tile built from its frame alone (<see cref="TileFrame.Cut"/>), as a remote tile is: the same state, to the bit,
    /// as the tile built from the whole image's input and warm start, without either on the tile's machine.
    /// </summary>
    public static CoordinateDescentTile FromFrame(LayerGeometry geometry, Connectivity connectivity, FilterBank f, double lambda, TileRect owned, TileFrame frame)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(frame);
        var gram = new FilterGram(f, connectivity);
        int k = geometry.Maps, kp = gram.PaddedMaps;
        if (frame.Positions.Length != frame.Values.Length)
            throw new ArgumentException($"the frame has {frame.Positions.Length} positions but {frame.Values.Length} values.", nameof(frame));
        // The frame's nonzeros travel over K maps; the tile indexes them over K̄ (the map count padded for SIMD).
        int[] index = [.. frame.Positions.Select(p => p / k * kp + p % k)];
        return new CoordinateDescentTile(geometry, connectivity, gram, null, lambda, owned, frame.Patch, index, (float[])frame.Values.Clone(), index.Length, patch: true);
    }

    /// <summary>
    /// The owned rectangle's nonzeros, as positions ((i · cols + j) · K + k over the rectangle, ascending) and values: what
    /// a remote tile sends back (<see cref="TileFrame.Gather"/>).
    /// </summary>
    public (int[] Positions, float[] Values) OwnedNonzeros()
    {
        int kp = _gram.PaddedMaps, maps = _global.Maps;
        var positions = new List<int>();
        var values = new List<float>();
        for (int n = 0; n < _count; n++)
        {
            int at = _index[n];
            if (!IsOwned(at)) continue;
            int p = at / kp, i = p / _frame.Cols - _frame.OwnedRow, j = p % _frame.Cols - _frame.OwnedCol;
            positions.Add((i * Owned.Cols + j) * maps + at % kp);
            values.Add(_value[n]);
        }
        return ([.. positions], [.. values]);
    }

    /// <summary>Nonzero coefficients the tile holds (owned and halo).</summary>
    public int Nonzeros => _count;

    /// <summary>Coefficients of the frame (owned and halo, maps padded to K̄).</summary>
    public long FrameCoefficients => _length;

    /// <summary>
    /// Bytes the tile holds between rounds: c dense over the frame (4 per coefficient), z as its nonzeros (8 per entry of
    /// capacity), and the input patch. z dense would add 4 per coefficient; it exists only inside a call, per thread.
    /// </summary>
    public long HeldBytes => 4L * _c.Length + 4L * (_index.Length + _value.Length) + 4L * _patch.Length;

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
    public float OwnedMaxMagnitude()
    {
        if (_attached is not null)
        {
            // Within a call the scratch is current where it was scattered; the owned rectangle only after a whole one.
            if (_region != Whole) throw new InvalidOperationException("max|z| within a call that scattered only part of z.");
            return _sweeper.OwnedMaxMagnitude();
        }
        float max = 0;
        for (int n = 0; n < _count; n++)
            if (IsOwned(_index[n])) max = MathF.Max(max, MathF.Abs(_value[n]));
        return max;
    }

    /// <summary>
    /// c = Fᵀ(y − F z) over the frame from the tile's own z (owned and halo) and patch, exact on the owned rectangle;
    /// then every segment is dirty and the tolerance's unit is <paramref name="scale"/> (max|z| over the whole image).
    /// Costs one synthesis and one adjoint of the frame.
    /// </summary>
    public void Refresh(FilterBank f, float scale)
    {
        ArgumentNullException.ThrowIfNull(f);
        _local.CheckFilters(f, nameof(f));
        // Per thread, not per tile: K·frame floats of dense maps would otherwise be allocated (and left to the
        // collector) by every tile at every refresh, gigabytes of garbage on a large image.
        RefreshBuffers buffers = s_refresh is { } cached && cached.Operator.Geometry == _local && cached.Operator.Connectivity == _connectivity
            ? cached
            : s_refresh = new RefreshBuffers(new LayerOperator(_local, _connectivity), _local.NewMaps(), _local.NewImage());
        (LayerOperator op, Tensor3 maps, Tensor3 r) = buffers;
        int plane = _frame.Rows * _frame.Cols, kp = _gram.PaddedMaps;
        float[] z = Attach(Whole);
        try
        {
            CoordinateDescentInference.FromMapLast(z, maps.Data, _local.Maps, plane, kp);
        }
        finally
        {
            Detach();
        }
        op.Synthesize(maps, f, r);
        TensorPrimitives.Subtract(_patch.Data, r.Data, r.Data);
        op.Adjoint(r, f, maps);
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
        Attach(Quarter(phase));
        try
        {
            return _sweeper.Sweep(tolerance, sr0, sr1, sc0, sc1);
        }
        finally
        {
            Detach();
        }
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
        float ownedMax = 0;
        int moves = 0;
        // One scatter and one re-compaction for the whole round, of the part of z the round reads: all of it for a
        // refresh, the quarter for a sweep, none to take in halo moves (they only write).
        Attach(step.Refresh ? Whole : step.Phase >= 0 ? Quarter(step.Phase) : default);
        try
        {
            Receive(step.Incoming);
            if (step.Refresh)
            {
                Refresh(f, step.Scale);
                ownedMax = OwnedMaxMagnitude();
            }
            if (step.Phase >= 0)
            {
                Scale = step.Scale;
                moves = Sweep(step.Phase, step.Tolerance);
            }
        }
        finally
        {
            Detach();
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
        if (moves.IsEmpty) return;
        Attach(default);
        try
        {
            foreach (ref readonly BorderMove move in moves) _sweeper.Receive(move);
        }
        finally
        {
            Detach();
        }
    }

    /// <summary>Writes the owned rectangle's coefficients into the whole image's maps (zeros included).</summary>
    public void Store(Tensor3 z)
    {
        _global.CheckMaps(z, nameof(z));
        for (int k = 0; k < _global.Maps; k++)
            for (int i = 0; i < Owned.Rows; i++)
                z.Plane(k).Slice((Owned.Row + i) * z.Cols + Owned.Col, Owned.Cols).Clear();
        int kp = _gram.PaddedMaps;
        for (int n = 0; n < _count; n++)
        {
            if (!IsOwned(_index[n])) continue;
            int p = _index[n] / kp, k = _index[n] % kp;
            z[k, GlobalRow(p / _frame.Cols), GlobalCol(p % _frame.Cols)] = _value[n];
        }
    }

    /// <summary>Adds 1 to counts[k·MapRows + row] for every owned nonzero at (k, row, ·): the row sizes of the whole image's compact maps.</summary>
    internal void CountOwned(int[] counts)
    {
        int kp = _gram.PaddedMaps;
        for (int n = 0; n < _count; n++)
        {
            int at = _index[n];
            if (!IsOwned(at)) continue;
            counts[at % kp * _global.MapRows + GlobalRow(at / kp / _frame.Cols)]++;
        }
    }

    /// <summary>
    /// Writes the owned nonzeros into the whole image's compact maps at cursor[k·MapRows + row] (advanced): ascending
    /// columns within a row when the tiles of a band are written left to right.
    /// </summary>
    internal void WriteOwned(int[] cursor, int[] columns, float[] values)
    {
        int kp = _gram.PaddedMaps;
        for (int n = 0; n < _count; n++)
        {
            int at = _index[n];
            if (!IsOwned(at)) continue;
            int p = at / kp, row = at % kp * _global.MapRows + GlobalRow(p / _frame.Cols);
            int to = cursor[row]++;
            columns[to] = GlobalCol(p % _frame.Cols);
            values[to] = _value[n];
        }
    }

    /// <summary>Writes the owned rectangle's correlation c into a whole-image map tensor (tests check it against Fᵀ(y − F z)).</summary>
    internal void StoreCorrelation(Tensor3 c) => StoreOwned(_c, c);

    private bool IsOwned(int index)
    {
        int p = index / _gram.PaddedMaps, i = p / _frame.Cols - _frame.OwnedRow, j = p % _frame.Cols - _frame.OwnedCol;
        return (uint)i < (uint)_frame.OwnedRows && (uint)j < (uint)_frame.OwnedCols;
    }

    private int GlobalRow(int i) => Mod(_frame.OriginRow + i, _global.MapRows);

    private int GlobalCol(int j) => Mod(_frame.OriginCol + j, _global.MapCols);

    /// <summary>Local rows [Row0, Row1) × columns [Col0, Col1) of the frame; default: none.</summary>
    private readonly record struct Region(int Row0, int Row1, int Col0, int Col1)
    {
        public bool Covers(Region other) => other.Row0 >= other.Row1 || other.Col0 >= other.Col1
            || (Row0 <= other.Row0 && other.Row1 <= Row1 && Col0 <= other.Col0 && other.Col1 <= Col1);
    }

    private Region Whole => new(0, _frame.Rows, 0, _frame.Cols);

    /// <summary>The local rows and columns of quarter <paramref name="phase"/>: the segments <see cref="Sweep"/> scans.</summary>
    private Region Quarter(int phase)
    {
        int segment = CoordinateDescentInference.SegmentSize(_gram.Size);
        int rowHalf = (_sweeper.SegmentRows + 1) / 2, colHalf = (_sweeper.SegmentCols + 1) / 2;
        (int sr0, int sr1) = (phase & 2) == 0 ? (0, rowHalf) : (rowHalf, _sweeper.SegmentRows);
        (int sc0, int sc1) = (phase & 1) == 0 ? (0, colHalf) : (colHalf, _sweeper.SegmentCols);
        int rowEnd = _frame.OwnedRow + _frame.OwnedRows, colEnd = _frame.OwnedCol + _frame.OwnedCols;
        return new Region(_frame.OwnedRow + sr0 * segment, Math.Min(rowEnd, _frame.OwnedRow + sr1 * segment),
            _frame.OwnedCol + sc0 * segment, Math.Min(colEnd, _frame.OwnedCol + sc1 * segment));
    }

    /// <summary>
    /// Lends the sweeper a dense z for one call: this thread's scratch with the nonzeros of <paramref name="region"/>
    /// scattered in (found by binary search per row; nested calls share the outer one's and must lie within it). The
    /// rest of the scratch stays zero: a call may write there (received halo moves overwrite) but never read. Every
    /// Attach is paired with a <see cref="Detach"/>.
    /// </summary>
    private float[] Attach(Region region)
    {
        if (_depth++ > 0)
        {
            if (!_region.Covers(region)) throw new InvalidOperationException($"a nested call reads {region}, outside the call's {_region}.");
            return _attached!;
        }
        float[] z = Scratch(_length);
        _scattered.Clear();
        if (region == Whole)
        {
            for (int n = 0; n < _count; n++) z[_index[n]] = _value[n];
            _scattered.Add((0, _count));
        }
        else if (region.Row0 < region.Row1 && region.Col0 < region.Col1)
        {
            int kp = _gram.PaddedMaps;
            for (int i = region.Row0; i < region.Row1; i++)
            {
                int lo = LowerBound((i * _frame.Cols + region.Col0) * kp), hi = LowerBound((i * _frame.Cols + region.Col1) * kp);
                for (int n = lo; n < hi; n++) z[_index[n]] = _value[n];
                if (hi > lo) _scattered.Add((lo, hi));
            }
        }
        _region = region;
        _written.Clear();
        _sweeper.Attach(z);
        return _attached = z;
    }

    /// <summary>The first entry whose index is at least <paramref name="key"/>.</summary>
    private int LowerBound(int key)
    {
        int at = Array.BinarySearch(_index, 0, _count, key);
        return at >= 0 ? at : ~at;
    }

    /// <summary>
    /// Ends the outermost call: merges the indices written since <see cref="Attach"/> into the nonzeros (their values
    /// read from the scratch, zeros dropped; the others copied as they were), then clears exactly the scratch entries
    /// scattered or written. Costs O(nonzeros) of sequential copying plus O(scattered + writes) scattered accesses,
    /// never O(frame).
    /// </summary>
    private void Detach()
    {
        if (--_depth > 0) return;
        float[] z = _attached!;
        _attached = null;
        Span<int> written = CollectionsMarshal.AsSpan(_written);
        if (written.Length > 0)
        {
            written.Sort();
            int capacity = _count + written.Length;
            if (s_mergeIndex is null || s_mergeIndex.Length < capacity)
            {
                s_mergeIndex = new int[capacity + capacity / 4];
                s_mergeValue = new float[s_mergeIndex.Length];
            }
            int[] mergedIndex = s_mergeIndex;
            float[] mergedValue = s_mergeValue!;
            int a = 0, b = 0, count = 0;
            while (a < _count || b < written.Length)
            {
                if (b >= written.Length || (a < _count && _index[a] < written[b]))
                {
                    mergedIndex[count] = _index[a];   // untouched this call: as it was
                    mergedValue[count++] = _value[a++];
                    continue;
                }
                int next = written[b];
                if (a < _count && _index[a] == next) a++;
                while (b < written.Length && written[b] == next) b++;
                float v = z[next];
                if (v == 0) continue;   // a move to zero (or −0) leaves the nonzeros
                mergedIndex[count] = next;
                mergedValue[count++] = v;
            }
            foreach ((int lo, int hi) in _scattered)
                for (int n = lo; n < hi; n++) z[_index[n]] = 0;
            foreach (int at in written) z[at] = 0;
            if (_index.Length < count || _index.Length > 2 * count + 1024)
            {
                _index = new int[count + count / 8 + 64];
                _value = new float[_index.Length];
            }
            mergedIndex.AsSpan(0, count).CopyTo(_index);
            mergedValue.AsSpan(0, count).CopyTo(_value);
            _count = count;
            _written.Clear();
        }
        else
        {
            foreach ((int lo, int hi) in _scattered)
                for (int n = lo; n < hi; n++) z[_index[n]] = 0;
        }
        _scattered.Clear();
    }

    /// <summary>This thread's all-zero scratch of at least <paramref name="length"/> floats.</summary>
    private static float[] Scratch(int length)
    {
        if (s_scratch is null || s_scratch.Length < length) s_scratch = new float[length];
        return s_scratch;
    }

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

    /// <summary>Reads the frame's nonzeros (owned and halo) from the whole image's maps, through this thread's scratch.</summary>
    private void LoadMaps(Tensor3 z)
    {
        int kp = _gram.PaddedMaps;
        float[] scratch = Scratch(_length);
        for (int k = 0; k < _global.Maps; k++)
        {
            ReadOnlySpan<float> plane = z.ReadPlane(k);
            for (int i = 0; i < _frame.Rows; i++)
            {
                int gr = Mod(_frame.OriginRow + i, _global.MapRows);
                for (int j = 0, at = i * _frame.Cols * kp + k; j < _frame.Cols; j++, at += kp)
                    scratch[at] = plane[gr * z.Cols + Mod(_frame.OriginCol + j, _global.MapCols)];
            }
        }
        int count = 0;
        for (int at = 0; at < _length; at++) count += scratch[at] != 0 ? 1 : 0;
        _index = new int[count];
        _value = new float[count];
        for (int at = 0, n = 0; at < _length; at++)
        {
            float v = scratch[at];
            scratch[at] = 0;   // −0 too: the scratch is all +0 between calls
            if (v == 0) continue;
            _index[n] = at;
            _value[n++] = v;
        }
        _count = count;
    }

    /// <summary>The frame along one axis: its first global index, its length and where the owned part starts in it.</summary>
    internal static (int Origin, int Length, int OwnedStart) Axis(int start, int length, int mapLength, int m, Boundary boundary)
    {
        if (boundary == Boundary.Circular) return (start - m, length + 2 * m, m);
        int origin = Math.Max(0, start - m), end = Math.Min(mapLength, start + length + m);
        return (origin, end - origin, start - origin);
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    /// <summary>One thread's refresh workspace for frames of one geometry: the operator, dense maps and a residual.</summary>
    private sealed record RefreshBuffers(LayerOperator Operator, Tensor3 Maps, Tensor3 Residual);
}
