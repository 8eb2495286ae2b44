using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;
using Distributed.Compute.Operators;

namespace Distributed.Compute.Inference;

/// <summary>
/// Which part of the maps a <see cref="CoordinateDescentSweeper"/> holds: its arrays cover <see cref="Rows"/> ×
/// <see cref="Cols"/> map positions starting at global position (<see cref="OriginRow"/>, <see cref="OriginCol"/>)
/// (taken modulo the map's size on the circular boundary), and it moves only the coefficients of the owned rectangle;
/// the rest is a halo whose z copies the neighbours' and whose c it never reads. <see cref="Wraps"/>: the frame is the
/// whole circular map, so stencil indices wrap around the arrays themselves instead of landing in a halo.
/// </summary>
internal readonly record struct SweepFrame(int Rows, int Cols, int OriginRow, int OriginCol, int OwnedRow, int OwnedCol, int OwnedRows, int OwnedCols, bool Wraps)
{
    /// <summary>The whole map, owned: the untiled solve.</summary>
    public static SweepFrame Whole(LayerGeometry geometry) =>
        new(geometry.MapRows, geometry.MapCols, 0, 0, 0, 0, geometry.MapRows, geometry.MapCols, geometry.Boundary == Boundary.Circular);
}

/// <summary>One coefficient update a tile announces to the tiles whose halo holds it: global position, map, new value, change.</summary>
public readonly record struct BorderMove(int Row, int Col, int Map, float Value, float Delta)
{
    /// <summary>Bytes of one move on the wire: five 4-byte fields.</summary>
    public const int Bytes = 20;
}

/// <summary>
/// What a tile is asked to do in one round (<see cref="CoordinateDescentTile.Step"/>): the phase (0..3, or −1 for none),
/// the tolerance, the tolerance's unit (max|z| over the image as the driver knows it), whether to recompute c first,
/// and the moves of the previous phase that land in its halo.
/// </summary>
public readonly record struct TileStep(int Phase, float Tolerance, float Scale, bool Refresh, BorderMove[] Incoming);

/// <summary>
/// A tile's answer to one round: moves made, moves since its last refresh, its max|z| so far, max|z| over its owned
/// rectangle when it refreshed (else 0), and the moves it made near its edges.
/// </summary>
public readonly record struct TileStepResult(int Moves, int MovesSinceRestart, float Scale, float OwnedMax, BorderMove[] Outgoing);

/// <summary>
/// The state of one locally greedy coordinate-descent solve over a frame of the maps (the whole map, or one tile and its
/// halo): c and z map-last, the segment grid over the owned rectangle, and which segments a move has touched since
/// their last scan. See <see cref="CoordinateDescentInference"/> for the method.
/// </summary>
internal sealed class CoordinateDescentSweeper
{
    private readonly FilterGram _gram;
    private readonly float[] _c;            // map-last [Rows, Cols, K̄]
    private float[] _z;                     // map-last [Rows, Cols, K̄]; a tile lends its dense z only while it works
    private readonly float _tau;
    private readonly SweepFrame _frame;
    private readonly int _maps, _rows, _cols, _segment, _segmentRows, _segmentCols, _margin;
    private readonly int _mapRows, _mapCols, _imageRows, _imageCols;
    private readonly bool _valid;
    private readonly int[] _rowPart, _colPart;   // per local row / column: its part of the atom-norm class offset
    private readonly float[] _norms, _inverses;
    private readonly bool[] _dirty;
    private readonly int[] _touchedRows, _touchedCols;
    private readonly List<BorderMove>? _outbox;
    private readonly SimdPath _scanPath;

    /// <param name="outbox">When given, every move within s−1 of the owned rectangle's edge is added to it: the moves the
    /// neighbours' halos need.</param>
    /// <param name="scanPath">The width of the search for each segment's best move (Auto: 256-bit where accelerated, else
    /// scalar; tests force each). Every width finds the same move.</param>
    public CoordinateDescentSweeper(FilterGram gram, CoordinateDescentInference.AtomNorms atoms, float[] c, float[] z, float tau, LayerGeometry geometry, SweepFrame frame,
        List<BorderMove>? outbox = null, SimdPath scanPath = SimdPath.Auto)
    {
        _scanPath = scanPath != SimdPath.Auto ? scanPath : Vector256.IsHardwareAccelerated ? SimdPath.Vector256 : SimdPath.Scalar;
        _gram = gram;
        _c = c;
        _z = z;
        _tau = tau;
        _frame = frame;
        _outbox = outbox;
        _maps = gram.PaddedMaps;
        _valid = geometry.Boundary == Boundary.Valid;
        _rows = frame.Rows;
        _cols = frame.Cols;
        _mapRows = geometry.MapRows;
        _mapCols = geometry.MapCols;
        _imageRows = geometry.Rows;
        _imageCols = geometry.Cols;
        _segment = CoordinateDescentInference.SegmentSize(gram.Size);
        _margin = gram.Size - 1;
        _segmentRows = (frame.OwnedRows + _segment - 1) / _segment;
        _segmentCols = (frame.OwnedCols + _segment - 1) / _segment;
        _dirty = new bool[_segmentRows * _segmentCols];
        _touchedRows = new int[2 * _margin + 1];
        _touchedCols = new int[2 * _margin + 1];
        _rowPart = new int[_rows];
        _colPart = new int[_cols];
        for (int i = 0; i < _rows; i++) _rowPart[i] = atoms.RowPart(GlobalRow(i));
        for (int j = 0; j < _cols; j++) _colPart[j] = atoms.ColumnPart(GlobalCol(j));
        _norms = atoms.Norms;
        _inverses = atoms.Inverses;
    }

    /// <summary>
    /// The array z lives in from now on (same layout and length): a tile keeps its maps compact between rounds and
    /// lends them here, scattered into a dense scratch, only for the round it works on.
    /// </summary>
    public void Attach(float[] z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.Length < (long)_rows * _cols * _maps) throw new ArgumentException($"z needs {(long)_rows * _cols * _maps} floats; got {z.Length}.", nameof(z));
        _z = z;
    }

    /// <summary>When set, every index of z a move or a received move writes is added to it (the tile re-compacts those).</summary>
    public List<int>? Written { get; set; }

    /// <summary>Moves made since the last <see cref="Restart"/>.</summary>
    public int MovesSinceRestart { get; private set; }

    /// <summary>max|z| at the last restart, raised by every larger value a move sets: the unit of the tolerance.</summary>
    public float Scale { get; set; }

    /// <summary>Segments of the owned rectangle per column and per row.</summary>
    public int SegmentRows => _segmentRows;

    public int SegmentCols => _segmentCols;

    /// <summary>max|z| over the owned rectangle.</summary>
    public float OwnedMaxMagnitude()
    {
        float max = 0;
        for (int i = 0; i < _frame.OwnedRows; i++)
        {
            int at = ((_frame.OwnedRow + i) * _cols + _frame.OwnedCol) * _maps;
            max = MathF.Max(max, MathF.Abs(TensorPrimitives.MaxMagnitude(_z.AsSpan(at, _frame.OwnedCols * _maps))));
        }
        return max;
    }

    /// <summary>Starts over after c was recomputed: every segment dirty, the given scale (max|z| over the whole map).</summary>
    public void Restart(float scale)
    {
        Array.Fill(_dirty, true);
        MovesSinceRestart = 0;
        Scale = scale;
    }

    /// <summary>One pass over every owned segment, row-major.</summary>
    public int Sweep(float tolerance) => Sweep(tolerance, 0, _segmentRows, 0, _segmentCols);

    /// <summary>
    /// One pass over the owned segments [sr0, sr1) × [sc0, sc1) in row-major order, moving each dirty segment's best
    /// coefficient when its move exceeds <paramref name="tolerance"/> · <see cref="Scale"/>; returns the moves made.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sweep(float tolerance, int sr0, int sr1, int sc0, int sc1)
    {
        int moves = 0;
        for (int sr = sr0; sr < sr1; sr++)
            for (int sc = sc0; sc < sc1; sc++)
            {
                int segment = sr * _segmentCols + sc;
                if (!_dirty[segment]) continue;
                _dirty[segment] = false;
                int r0 = _frame.OwnedRow + sr * _segment, c0 = _frame.OwnedCol + sc * _segment;
                (float best, int index) = Scan(r0, Math.Min(_frame.OwnedRow + _frame.OwnedRows, r0 + _segment), c0, Math.Min(_frame.OwnedCol + _frame.OwnedCols, c0 + _segment));
                if (index < 0 || !(best > tolerance * Scale)) continue;
                Move(index);
                moves++;
            }
        MovesSinceRestart += moves;
        return moves;
    }

    /// <summary>
    /// The coefficient of the local rows [r0, r1) × columns [c0, c1), over all maps, with the largest move: the first in
    /// storage order among equal largest moves, at every width (each lane keeps its own first maximum; the reduction takes
    /// the smallest index among equal maxima), so the width changes no move.
    /// </summary>
    private (float Best, int Index) Scan(int r0, int r1, int c0, int c1) => _scanPath switch
    {
        SimdPath.Vector512 => Scan512(r0, r1, c0, c1),
        SimdPath.Vector256 => Scan256(r0, r1, c0, c1),
        SimdPath.Vector128 => Scan128(r0, r1, c0, c1),
        _ => ScanScalar(r0, r1, c0, c1),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (float Best, int Index) ScanScalar(int r0, int r1, int c0, int c1)
    {
        float best = 0;
        int bestIndex = -1;
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++)
                ScanRun(i, j, 0, ref best, ref bestIndex);
        return (best, bestIndex);
    }

    /// <summary>Maps [k0, K̄) at local position (i, j), one at a time, into (best, index): strictly larger moves only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScanRun(int i, int j, int k0, ref float best, ref int bestIndex)
    {
        for (int k = k0, at = (i * _cols + j) * _maps + k0, n = _rowPart[i] + _colPart[j] + k0; k < _maps; k++, at++, n++)
        {
            float move = MathF.Abs(Target(_c[at], _z[at], _norms[n], _inverses[n], _tau) - _z[at]);
            if (move > best) (best, bestIndex) = (move, at);
        }
    }

    /// <summary>Lane-wise maxima over the whole segment, reduced once at the end (the first index wins ties in a lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (float Best, int Index) Scan256(int r0, int r1, int c0, int c1)
    {
        ref float c = ref MemoryMarshal.GetArrayDataReference(_c);
        ref float z = ref MemoryMarshal.GetArrayDataReference(_z);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        ref float inverses = ref MemoryMarshal.GetArrayDataReference(_inverses);
        int lanes = Vector256<float>.Count;
        var tau = Vector256.Create(_tau);
        var bestVector = Vector256<float>.Zero;
        var bestLane = Vector256.Create(-1);
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++)
            {
                int start = (i * _cols + j) * _maps, cls = _rowPart[i] + _colPart[j];
                for (int k = 0; k < _maps; k += lanes)   // K̄ is a multiple of 8: whole vectors
                {
                    nuint at = (nuint)(start + k), n = (nuint)(cls + k);
                    var zv = Vector256.LoadUnsafe(ref z, at);
                    var target = Target(Vector256.LoadUnsafe(ref c, at), zv, Vector256.LoadUnsafe(ref norms, n), Vector256.LoadUnsafe(ref inverses, n), tau);
                    var move = Vector256.Abs(target - zv);
                    var better = Vector256.GreaterThan(move, bestVector);
                    bestVector = Vector256.Max(move, bestVector);
                    bestLane = Vector256.ConditionalSelect(better.AsInt32(), Vector256.Create(start + k) + Vector256<int>.Indices, bestLane);
                }
            }
        float best = 0;
        int bestIndex = -1;
        for (int lane = 0; lane < lanes; lane++) Merge(bestVector[lane], bestLane[lane], ref best, ref bestIndex);
        return (best, bestIndex);
    }

    /// <summary>As <see cref="Scan256"/> in 512-bit lanes; when K̄ is an odd multiple of 8 its last 8 maps run one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (float Best, int Index) Scan512(int r0, int r1, int c0, int c1)
    {
        ref float c = ref MemoryMarshal.GetArrayDataReference(_c);
        ref float z = ref MemoryMarshal.GetArrayDataReference(_z);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        ref float inverses = ref MemoryMarshal.GetArrayDataReference(_inverses);
        int lanes = Vector512<float>.Count, whole = _maps - _maps % lanes;
        var tau = Vector512.Create(_tau);
        var bestVector = Vector512<float>.Zero;
        var bestLane = Vector512.Create(-1);
        float best = 0;
        int bestIndex = -1;
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++)
            {
                int start = (i * _cols + j) * _maps, cls = _rowPart[i] + _colPart[j];
                for (int k = 0; k < whole; k += lanes)
                {
                    nuint at = (nuint)(start + k), n = (nuint)(cls + k);
                    var zv = Vector512.LoadUnsafe(ref z, at);
                    var beta = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref norms, n), zv, Vector512.LoadUnsafe(ref c, at));
                    var magnitude = Vector512.Max(Vector512.Abs(beta) - tau, Vector512<float>.Zero) * Vector512.LoadUnsafe(ref inverses, n);
                    var move = Vector512.Abs((magnitude | (beta & Vector512.Create(-0.0f))) - zv);
                    var better = Vector512.GreaterThan(move, bestVector);
                    bestVector = Vector512.Max(move, bestVector);
                    bestLane = Vector512.ConditionalSelect(better.AsInt32(), Vector512.Create(start + k) + Vector512<int>.Indices, bestLane);
                }
                if (whole < _maps) ScanRun(i, j, whole, ref best, ref bestIndex);
            }
        for (int lane = 0; lane < lanes; lane++) Merge(bestVector[lane], bestLane[lane], ref best, ref bestIndex);
        return (best, bestIndex);
    }

    /// <summary>As <see cref="Scan256"/> in 128-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (float Best, int Index) Scan128(int r0, int r1, int c0, int c1)
    {
        ref float c = ref MemoryMarshal.GetArrayDataReference(_c);
        ref float z = ref MemoryMarshal.GetArrayDataReference(_z);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        ref float inverses = ref MemoryMarshal.GetArrayDataReference(_inverses);
        int lanes = Vector128<float>.Count;
        var tau = Vector128.Create(_tau);
        var bestVector = Vector128<float>.Zero;
        var bestLane = Vector128.Create(-1);
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++)
            {
                int start = (i * _cols + j) * _maps, cls = _rowPart[i] + _colPart[j];
                for (int k = 0; k < _maps; k += lanes)
                {
                    nuint at = (nuint)(start + k), n = (nuint)(cls + k);
                    var zv = Vector128.LoadUnsafe(ref z, at);
                    var beta = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref norms, n), zv, Vector128.LoadUnsafe(ref c, at));
                    var magnitude = Vector128.Max(Vector128.Abs(beta) - tau, Vector128<float>.Zero) * Vector128.LoadUnsafe(ref inverses, n);
                    var move = Vector128.Abs((magnitude | (beta & Vector128.Create(-0.0f))) - zv);
                    var better = Vector128.GreaterThan(move, bestVector);
                    bestVector = Vector128.Max(move, bestVector);
                    bestLane = Vector128.ConditionalSelect(better.AsInt32(), Vector128.Create(start + k) + Vector128<int>.Indices, bestLane);
                }
            }
        float best = 0;
        int bestIndex = -1;
        for (int lane = 0; lane < lanes; lane++) Merge(bestVector[lane], bestLane[lane], ref best, ref bestIndex);
        return (best, bestIndex);
    }

    /// <summary>Takes (value, index) when it moves more, or as much (and something) at a smaller index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Merge(float value, int index, ref float best, ref int bestIndex)
    {
        if (value > best || (value == best && value > 0 && index < bestIndex)) (best, bestIndex) = (value, index);
    }

    /// <summary>Sets z at local <paramref name="index"/> to its 1-D minimiser and updates c and the dirty segments around it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Move(int index)
    {
        int k = index % _maps, p = index / _maps, i = p / _cols, j = p % _cols;
        int cls = _rowPart[i] + _colPart[j] + k;
        float updated = Target(_c[index], _z[index], _norms[cls], _inverses[cls], _tau);
        float delta = updated - _z[index];
        _z[index] = updated;
        Written?.Add(index);
        Scale = MathF.Max(Scale, MathF.Abs(updated));
        if (delta == 0) return;
        Spread(k, i, j, delta);
        if (_outbox is not null && NearOwnedEdge(i, j)) _outbox.Add(new BorderMove(GlobalRow(i), GlobalCol(j), k, updated, delta));
    }

    /// <summary>
    /// Takes in a move another tile (or this one, around the torus) made at global (row, col): every copy of that
    /// coefficient in this frame's halo takes the new value, and c around each copy changes as if the move were local.
    /// A coefficient this frame owns is never a halo copy, so its owner's own update is not applied twice.
    /// </summary>
    public void Receive(in BorderMove move)
    {
        if (_frame.Wraps) return;   // the whole circular map in one frame: no halo, every move was local
        Span<int> rows = stackalloc int[4], cols = stackalloc int[4];
        int rowCount = Copies(move.Row, _frame.OriginRow, _mapRows, _rows, rows), colCount = Copies(move.Col, _frame.OriginCol, _mapCols, _cols, cols);
        for (int a = 0; a < rowCount; a++)
        {
            int i = rows[a];
            bool rowOwned = i >= _frame.OwnedRow && i < _frame.OwnedRow + _frame.OwnedRows;
            for (int b = 0; b < colCount; b++)
            {
                int j = cols[b];
                if (rowOwned && j >= _frame.OwnedCol && j < _frame.OwnedCol + _frame.OwnedCols) continue;
                int at = (i * _cols + j) * _maps + move.Map;
                _z[at] = move.Value;
                Written?.Add(at);
                Spread(move.Map, i, j, move.Delta);
            }
        }
    }

    /// <summary>The local indices whose global position is <paramref name="global"/>: one at most (valid), or every one around the torus.</summary>
    private int Copies(int global, int origin, int mapLength, int frameLength, Span<int> into)
    {
        int count = 0;
        if (_valid)
        {
            int local = global - origin;
            if (local >= 0 && local < frameLength) into[count++] = local;
            return count;
        }
        for (int local = Global(global - origin, mapLength); local < frameLength && count < into.Length; local += mapLength) into[count++] = local;
        return count;
    }

    /// <summary>c −= Δ·G around local (i, j) (plus the valid boundary's outside correction), and the dirty segments.</summary>
    private void Spread(int k, int i, int j, float delta)
    {
        int m = _margin, width = _gram.Width, kp = _maps;
        ref float block = ref MemoryMarshal.GetReference(_gram.Block(k));
        for (int a = 0; a < width; a++)
        {
            int row = i + a - m;
            if (!Wrap(ref row, _rows)) continue;
            for (int b = 0; b < width; b++)
            {
                int col = j + b - m;
                if (!Wrap(ref col, _cols)) continue;
                AddScaled(ref Unsafe.Add(ref block, (a * width + b) * kp), -delta, (row * _cols + col) * kp);
            }
        }
        if (_valid) TakeOutsideBack(k, i, j, delta);
        MarkDirty(i, j);
    }

    /// <summary>
    /// Whether a move at local (i, j) lies within s−1 of an edge of the owned rectangle that faces another tile's halo:
    /// every edge on the circular boundary, none that lies on the valid maps' own edge.
    /// </summary>
    private bool NearOwnedEdge(int i, int j)
    {
        int top = _frame.OriginRow + _frame.OwnedRow, left = _frame.OriginCol + _frame.OwnedCol;
        bool circular = !_valid;
        return (i - _frame.OwnedRow < _margin && (circular || top > 0)) ||
               (_frame.OwnedRow + _frame.OwnedRows - 1 - i < _margin && (circular || top + _frame.OwnedRows < _mapRows)) ||
               (j - _frame.OwnedCol < _margin && (circular || left > 0)) ||
               (_frame.OwnedCol + _frame.OwnedCols - 1 - j < _margin && (circular || left + _frame.OwnedCols < _mapCols));
    }

    private int GlobalRow(int i) => Global(_frame.OriginRow + i, _mapRows);

    private int GlobalCol(int j) => Global(_frame.OriginCol + j, _mapCols);

    private static int Global(int at, int length) => ((at % length) + length) % length;

    /// <summary>
    /// With the valid boundary the stencil counted the whole atom, but the data term sees only its part inside the
    /// image: for every tap u of the atom at (i, j) that falls outside, add back Δ·Σ_c tap_k(u)·tap_k'(u') to the
    /// coefficients (k', q) whose atoms cover that pixel with their tap u'. (Valid frames never wrap: local = global − origin.)
    /// </summary>
    private void TakeOutsideBack(int k, int i, int j, float delta)
    {
        int s = _gram.Size, m = _margin, kp = _maps;
        int gi = _frame.OriginRow + i, gj = _frame.OriginCol + j;
        float[] taps = _gram.Taps;
        for (int ur = 0; ur < s; ur++)
        {
            int xr = gi - m + ur;
            bool rowOutside = xr < 0 || xr >= _imageRows;
            for (int uc = 0; uc < s; uc++)
            {
                int xc = gj - m + uc;
                if (!rowOutside && xc >= 0 && xc < _imageCols) continue;
                for (int c = 0; c < _gram.Inputs; c++)
                {
                    float tap = taps[((c * s + ur) * s + uc) * kp + k];
                    if (tap == 0) continue;
                    ref float others = ref taps[c * s * s * kp];
                    for (int vr = 0; vr < s; vr++)
                    {
                        int qr = xr + m - vr - _frame.OriginRow;
                        if (qr < 0 || qr >= _rows) continue;
                        for (int vc = 0; vc < s; vc++)
                        {
                            int qc = xc + m - vc - _frame.OriginCol;
                            if (qc < 0 || qc >= _cols) continue;
                            AddScaled(ref Unsafe.Add(ref others, (vr * s + vc) * kp), delta * tap, (qr * _cols + qc) * kp);
                        }
                    }
                }
            }
        }
    }

    /// <summary>c[at .. at + K̄) += scale · run[0 .. K̄).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddScaled(ref float run, float scale, int at) =>
        FilterGram.AddRun(MemoryMarshal.CreateReadOnlySpan(ref run, _maps), scale, _c.AsSpan(at, _maps));

    /// <summary>Brings a local index into [0, length): around the torus (a frame of the whole circular map), or reports it is off the frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Wrap(ref int at, int length)
    {
        if (at >= 0 && at < length) return true;
        if (!_frame.Wraps) return false;
        at += at < 0 ? length : -length;
        return true;
    }

    /// <summary>Marks every owned segment that holds a cell within s−1 of local (i, j) (around the torus when the frame wraps).</summary>
    private void MarkDirty(int i, int j)
    {
        int rowCount = Touched(i, _rows, _frame.OwnedRow, _frame.OwnedRows, _touchedRows);
        if (rowCount == 0) return;
        int colCount = Touched(j, _cols, _frame.OwnedCol, _frame.OwnedCols, _touchedCols);
        for (int a = 0; a < rowCount; a++)
            for (int b = 0; b < colCount; b++)
                _dirty[_touchedRows[a] * _segmentCols + _touchedCols[b]] = true;
    }

    private int Touched(int center, int length, int owned, int ownedLength, int[] into)
    {
        int count = 0;
        for (int d = -_margin; d <= _margin; d++)
        {
            int at = center + d;
            if (!Wrap(ref at, length)) continue;
            at -= owned;
            if (at < 0 || at >= ownedLength) continue;
            int segment = at / _segment;
            bool seen = false;
            for (int e = 0; e < count; e++) seen |= into[e] == segment;
            if (!seen) into[count++] = segment;
        }
        return count;
    }

    /// <summary>The 1-D minimiser ST(c + n z, τ) / n (0 for a dead filter: its inverse is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Target(float c, float z, float n, float inverse, float tau)
    {
        float beta = MathF.FusedMultiplyAdd(n, z, c);
        float magnitude = MathF.Max(MathF.Abs(beta) - tau, 0) * inverse;
        return MathF.CopySign(magnitude, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Target(Vector256<float> c, Vector256<float> z, Vector256<float> n, Vector256<float> inverse, Vector256<float> tau)
    {
        var beta = Vector256.FusedMultiplyAdd(n, z, c);
        var magnitude = Vector256.Max(Vector256.Abs(beta) - tau, Vector256<float>.Zero) * inverse;
        return magnitude | (beta & Vector256.Create(-0.0f));
    }
}
