using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// </summary>
public static class CoordinateDescentInference
{
    /// <param name="z">In: the warm start. Out: the inferred maps.</param>
    /// <param name="filterVersion">Identifies f for the cached <see cref="FilterGram"/>; pass a new value whenever f changes.</param>
    public static InferenceStats Run(InferenceWorkspace ws, FilterBank f, long filterVersion, Tensor3 y, Tensor3 z, double lambda, CoordinateDescentOptions options)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxSweeps);
        if (!(options.Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "the tolerance must be ≥ 0.");
        if (!(lambda > 0) || double.IsInfinity(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be a finite number > 0.");
        LayerGeometry geometry = ws.Geometry;
        Check(geometry);
        geometry.CheckImage(y, nameof(y));
        geometry.CheckMaps(z, nameof(z));
        (FilterGram gram, AtomNorms atoms) = GramFor(ws, f, filterVersion);

        // The sweeps run on map-last copies [H, W, K̄] of z and c: a segment's coefficients and a move's stencil are then
        // contiguous runs over the maps instead of K strided planes.
        int plane = geometry.MapRows * geometry.MapCols, kp = gram.PaddedMaps;
        (float[] zt, float[] ct) = ws.MapLastBuffers(plane * kp);
        ToMapLast(z.Data, zt, geometry.Maps, plane, kp);
        var solver = new Sweeper(gram, atoms, ct, zt, (float)(1 / lambda), geometry);
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
                solver.Restart();
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
    private static void ToMapLast(float[] source, float[] destination, int maps, int plane, int kp)
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
    private static void FromMapLast(float[] source, float[] destination, int maps, int plane, int kp)
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

    /// <summary>The state of one solve: c, z, the segment grid and which segments a move has touched since their last scan.</summary>
    private sealed class Sweeper
    {
        private readonly FilterGram _gram;
        private readonly float[] _c, _z;        // map-last [Hz, Wz, K̄]
        private readonly float _tau;
        private readonly int _maps, _rows, _cols, _segment, _segmentRows, _segmentCols, _margin;
        private readonly bool _valid;
        private readonly int _imageRows, _imageCols;
        private readonly AtomNorms _atoms;
        private readonly float[] _norms, _inverses;
        private readonly bool[] _dirty;
        private readonly int[] _touchedRows, _touchedCols;
        private float _scale;   // max|z| at the start, raised by every larger value a move sets: the tolerance's unit

        public Sweeper(FilterGram gram, AtomNorms atoms, float[] c, float[] z, float tau, LayerGeometry geometry)
        {
            _gram = gram;
            _c = c;
            _z = z;
            _tau = tau;
            _maps = gram.PaddedMaps;
            _valid = geometry.Boundary == Boundary.Valid;
            _rows = geometry.MapRows;
            _cols = geometry.MapCols;
            _imageRows = geometry.Rows;
            _imageCols = geometry.Cols;
            _segment = SegmentSize(gram.Size);
            _margin = gram.Size - 1;
            _segmentRows = (_rows + _segment - 1) / _segment;
            _segmentCols = (_cols + _segment - 1) / _segment;
            _dirty = new bool[_segmentRows * _segmentCols];
            _touchedRows = new int[_segmentRows];
            _touchedCols = new int[_segmentCols];
            _atoms = atoms;
            _norms = atoms.Norms;
            _inverses = atoms.Inverses;
        }

        private int ClassOffset(int i, int j) => _atoms.Offset(i, j);

        /// <summary>Moves made since the last <see cref="Restart"/>.</summary>
        public int MovesSinceRestart { get; private set; }

        /// <summary>Starts over after c was recomputed: every segment dirty, the scale from the current z.</summary>
        public void Restart()
        {
            Array.Fill(_dirty, true);
            MovesSinceRestart = 0;
            _scale = MathF.Abs(TensorPrimitives.MaxMagnitude(_z.AsSpan(0, _rows * _cols * _maps)));
        }

        /// <summary>
        /// One pass over the segments in row-major order, moving each dirty segment's best coefficient when its move
        /// exceeds <paramref name="tolerance"/> · max|z|; returns the moves made.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public int Sweep(float tolerance)
        {
            int moves = 0;
            for (int sr = 0; sr < _segmentRows; sr++)
                for (int sc = 0; sc < _segmentCols; sc++)
                {
                    int segment = sr * _segmentCols + sc;
                    if (!_dirty[segment]) continue;
                    _dirty[segment] = false;
                    (float best, int index) = Scan(sr * _segment, Math.Min(_rows, (sr + 1) * _segment), sc * _segment, Math.Min(_cols, (sc + 1) * _segment));
                    if (index < 0 || !(best > tolerance * _scale)) continue;
                    Move(index);
                    moves++;
                }
            MovesSinceRestart += moves;
            return moves;
        }

        /// <summary>The coefficient of the segment rows [r0, r1) × columns [c0, c1), over all maps, with the largest move.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private (float Best, int Index) Scan(int r0, int r1, int c0, int c1)
        {
            float best = 0;
            int bestIndex = -1;
            if (!Vector256.IsHardwareAccelerated)
            {
                for (int i = r0; i < r1; i++)
                    for (int j = c0; j < c1; j++)
                        for (int k = 0, at = (i * _cols + j) * _maps, n = ClassOffset(i, j); k < _maps; k++, at++, n++)
                        {
                            float move = MathF.Abs(Target(_c[at], _z[at], _norms[n], _inverses[n], _tau) - _z[at]);
                            if (move > best) (best, bestIndex) = (move, at);
                        }
                return (best, bestIndex);
            }
            ref float c = ref MemoryMarshal.GetArrayDataReference(_c);
            ref float z = ref MemoryMarshal.GetArrayDataReference(_z);
            ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
            ref float inverses = ref MemoryMarshal.GetArrayDataReference(_inverses);
            int lanes = Vector256<float>.Count;
            var tau = Vector256.Create(_tau);
            // Lane-wise maxima over the whole segment, reduced once at the end (the first index wins ties in a lane).
            var bestVector = Vector256<float>.Zero;
            var bestLane = Vector256.Create(-1);
            for (int i = r0; i < r1; i++)
                for (int j = c0; j < c1; j++)
                {
                    int start = (i * _cols + j) * _maps, cls = ClassOffset(i, j);
                    for (int k = 0; k < _maps; k += lanes)
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
            for (int lane = 0; lane < lanes; lane++)
            {
                float value = bestVector[lane];
                if (value > best || (value == best && value > 0 && bestLane[lane] < bestIndex)) (best, bestIndex) = (value, bestLane[lane]);
            }
            return (best, bestIndex);
        }

        /// <summary>Sets z at <paramref name="index"/> to its 1-D minimiser and updates c and the dirty segments around it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Move(int index)
        {
            int k = index % _maps, p = index / _maps, i = p / _cols, j = p % _cols;
            int cls = ClassOffset(i, j) + k;
            float updated = Target(_c[index], _z[index], _norms[cls], _inverses[cls], _tau);
            float delta = updated - _z[index];
            _z[index] = updated;
            _scale = MathF.Max(_scale, MathF.Abs(updated));
            if (delta == 0) return;

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
        /// With the valid boundary the stencil counted the whole atom, but the data term sees only its part inside the
        /// image: for every tap u of the atom at (i, j) that falls outside, add back Δ·Σ_c tap_k(u)·tap_k'(u') to the
        /// coefficients (k', q) whose atoms cover that pixel with their tap u'.
        /// </summary>
        private void TakeOutsideBack(int k, int i, int j, float delta)
        {
            int s = _gram.Size, m = _margin, kp = _maps;
            float[] taps = _gram.Taps;
            for (int ur = 0; ur < s; ur++)
            {
                int xr = i - m + ur;
                bool rowOutside = xr < 0 || xr >= _imageRows;
                for (int uc = 0; uc < s; uc++)
                {
                    int xc = j - m + uc;
                    if (!rowOutside && xc >= 0 && xc < _imageCols) continue;
                    for (int c = 0; c < _gram.Inputs; c++)
                    {
                        float tap = taps[((c * s + ur) * s + uc) * kp + k];
                        if (tap == 0) continue;
                        ref float others = ref taps[c * s * s * kp];
                        for (int vr = 0; vr < s; vr++)
                        {
                            int qr = xr + m - vr;
                            if (qr < 0 || qr >= _rows) continue;
                            for (int vc = 0; vc < s; vc++)
                            {
                                int qc = xc + m - vc;
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

        /// <summary>Brings an index into [0, length): around the torus (circular), or reports it is off the maps (valid).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool Wrap(ref int at, int length)
        {
            if (at >= 0 && at < length) return true;
            if (_valid) return false;
            at += at < 0 ? length : -length;
            return true;
        }

        /// <summary>Marks every segment that holds a cell within s−1 of (i, j) (around the torus when circular).</summary>
        private void MarkDirty(int i, int j)
        {
            int rowCount = Touched(i, _rows, _touchedRows), colCount = Touched(j, _cols, _touchedCols);
            for (int a = 0; a < rowCount; a++)
                for (int b = 0; b < colCount; b++)
                    _dirty[_touchedRows[a] * _segmentCols + _touchedCols[b]] = true;
        }

        private int Touched(int center, int length, int[] into)
        {
            int count = 0;
            for (int d = -_margin; d <= _margin; d++)
            {
                int at = center + d;
                if (!Wrap(ref at, length)) continue;
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
}
