using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The nonzeros of a maps tensor z [K, Hz, Wz], gathered by one scan in storage order and grouped by map row: the
/// nonzeros of row p of map k are entries <c>RowStart[k·Hz + p] .. RowStart[k·Hz + p + 1] − 1</c>, each a column
/// (<see cref="NonzeroColumns"/>) and a value (<see cref="NonzeroValues"/>), columns ascending. The row index lets the sparse
/// kernels cut their work into row bands without searching.
/// Reusable: buffers grow on demand and are kept, so once sized a gather allocates nothing. Not thread-safe.
/// </summary>
public sealed class SparseMaps
{
    private int[] _rowStart = [0];
    private int[] _cols = [];
    private float[] _values = [];

    /// <summary>An empty instance; the first gather sizes it.</summary>
    public SparseMaps()
    {
    }

    /// <summary>An instance with room for <paramref name="capacity"/> nonzeros of maps shaped [planes, rows, ·].</summary>
    public SparseMaps(int planes, int rows, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(planes);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _rowStart = new int[(long)planes * rows + 1];
        _cols = new int[capacity];
        _values = new float[capacity];
    }

    /// <summary>
    /// Maps assembled elsewhere (a tiled solve writes its tiles' nonzeros straight into this form): row offsets
    /// (length planes·rows + 1), then columns ascending within each row and their values, each array with at least
    /// 32 entries of slack after <paramref name="count"/> for the kernels. Takes the arrays over.
    /// </summary>
    /// <summary>
    /// Compact maps assembled from entries counted per map row: <paramref name="rowCounts"/> (planes·rows + 1 long) holds
    /// each row's count in [0, planes·rows) and is turned into the row offsets in place; <paramref name="write"/> then
    /// puts every entry at <c>cursor[row]++</c>, in ascending column order within each row.
    /// </summary>
    internal static SparseMaps FromRowCounts(int planes, int rows, int cols, int[] rowCounts, Action<int[], int[], float[]> write)
    {
        ArgumentNullException.ThrowIfNull(rowCounts);
        ArgumentNullException.ThrowIfNull(write);
        int all = planes * rows;
        if (rowCounts.Length < all + 1) throw new ArgumentException($"row counts must cover {planes}×{rows} rows plus one.", nameof(rowCounts));
        for (int r = 0, total = 0; r <= all; r++)
        {
            int count = r < all ? rowCounts[r] : 0;
            rowCounts[r] = total;
            total += count;
        }
        int nonzeros = rowCounts[all];
        int[] cursor = rowCounts.AsSpan(0, all).ToArray();
        var columns = new int[nonzeros + 32];
        var values = new float[nonzeros + 32];
        write(cursor, columns, values);
        return FromRows(planes, rows, cols, rowCounts, columns, values, nonzeros);
    }

    internal static SparseMaps FromRows(int planes, int rows, int cols, int[] rowStart, int[] columns, float[] values, int count)
    {
        ArgumentNullException.ThrowIfNull(rowStart);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(values);
        if (rowStart.Length < (long)planes * rows + 1 || rowStart[(long)planes * rows] != count)
            throw new ArgumentException($"row offsets must cover {planes}×{rows} rows and end at the count {count}.", nameof(rowStart));
        if (columns.Length < count + 32L || values.Length < count + 32L)
            throw new ArgumentException($"columns and values need {count} entries plus 32 of slack.", nameof(columns));
        return new SparseMaps { _rowStart = rowStart, _cols = columns, _values = values, Planes = planes, Rows = rows, Cols = cols, Count = count };
    }

    /// <summary>Shape of the maps last gathered.</summary>
    public int Planes { get; private set; }
    public int Rows { get; private set; }
    public int Cols { get; private set; }

    /// <summary>Nonzeros gathered (valid only after a gather that succeeded).</summary>
    public int Count { get; private set; }

    /// <summary>Count / (Planes · Rows · Cols); 0 for an empty shape.</summary>
    public double Density => Planes * Rows * Cols == 0 ? 0 : Count / ((double)Planes * Rows * Cols);

    /// <summary>Nonzeros the buffers hold without growing.</summary>
    public int Capacity => _values.Length;

    /// <summary>Offsets per map row, length Planes · Rows + 1.</summary>
    public ReadOnlySpan<int> RowStart => _rowStart.AsSpan(0, Planes * Rows + 1);

    public ReadOnlySpan<int> NonzeroColumns => _cols.AsSpan(0, Count);

    public ReadOnlySpan<float> NonzeroValues => _values.AsSpan(0, Count);

    internal int[] RowStartArray => _rowStart;
    internal int[] ColumnArray => _cols;
    internal float[] ValueArray => _values;

    /// <summary>Gathers every nonzero of <paramref name="z"/>, growing the buffers if needed.</summary>
    public void Gather(Tensor3 z)
    {
        ArgumentNullException.ThrowIfNull(z);
        Scan(z, int.MaxValue, Avx2.IsSupported);
    }

    /// <summary>
    /// <see cref="Gather(Tensor3)"/> with the scan's path forced: Scalar tests one value at a time; every other path is
    /// the AVX2 compaction (the only vector scan there is: it permutes with an AVX2 instruction, so it has no software
    /// fallback and this machine must have AVX2 for it to run). Tests compare the two.
    /// </summary>
    internal bool Gather(Tensor3 z, int maxNonzeros, SimdPath path)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNonzeros);
        if (path != SimdPath.Scalar && !Avx2.IsSupported) throw new PlatformNotSupportedException("the vector scan of the maps needs AVX2.");
        return Scan(z, maxNonzeros, path != SimdPath.Scalar);
    }

    /// <summary>
    /// Gathers the nonzeros of <paramref name="z"/> if there are at most <paramref name="maxNonzeros"/>; otherwise stops
    /// as soon as that many are exceeded (so a dense tensor costs only a partial scan), leaves the instance empty and
    /// returns false. Buffers grow only up to <paramref name="maxNonzeros"/> plus 32 entries of slack.
    /// </summary>
    public bool TryGather(Tensor3 z, int maxNonzeros)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNonzeros);
        return Scan(z, maxNonzeros, Avx2.IsSupported);
    }

    /// <summary>Writes the gathered nonzeros back as a dense tensor: destination[k, p, q] = z[k, p, q].</summary>
    public void Scatter(Tensor3 destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Planes != Planes || destination.Rows != Rows || destination.Cols != Cols)
            throw new ArgumentException($"these maps are [{Planes}, {Rows}, {Cols}]; the destination is {destination}.", nameof(destination));
        destination.Clear();
        int rows = Planes * Rows;
        for (int row = 0; row < rows; row++)
            for (int n = _rowStart[row]; n < _rowStart[row + 1]; n++) destination.Data[row * Cols + _cols[n]] = _values[n];
    }

    /// <summary>
    /// A copy of what was gathered with buffers trimmed to the nonzeros (plus the 32 entries of slack the kernels may
    /// touch), for keeping maps between passes: <see cref="ResidentBytes"/> instead of 4 bytes per coefficient.
    /// </summary>
    public SparseMaps Compacted()
    {
        int rows = Planes * Rows;
        var copy = new SparseMaps
        {
            _rowStart = _rowStart.AsSpan(0, rows + 1).ToArray(),
            _cols = new int[Count + 32],
            _values = new float[Count + 32],
            Planes = Planes,
            Rows = Rows,
            Cols = Cols,
            Count = Count,
        };
        _cols.AsSpan(0, Count).CopyTo(copy._cols);
        _values.AsSpan(0, Count).CopyTo(copy._values);
        return copy;
    }

    /// <summary>Bytes of the buffers: 4 per row offset, 8 per nonzero held (column and value).</summary>
    public long ResidentBytes => 4L * _rowStart.Length + 4L * _cols.Length + 4L * _values.Length;

    /// <summary>Bytes a gather of <paramref name="nonzeros"/> entries of maps [planes, rows, ·] keeps once compacted.</summary>
    public static long CompactedBytes(int planes, int rows, long nonzeros) => 4L * ((long)planes * rows + 1) + 8L * (nonzeros + 32);

    private bool Scan(Tensor3 z, int maxNonzeros, bool compact)
    {
        int rows = z.Planes * z.Rows, cols = z.Cols;
        if (_rowStart.Length < rows + 1) _rowStart = new int[rows + 1];
        Planes = z.Planes;
        Rows = z.Rows;
        Cols = z.Cols;
        Count = 0;
        int count = 0;
        ref float data = ref MemoryMarshal.GetArrayDataReference(z.Data);
        for (int row = 0; row < rows; row++)
        {
            _rowStart[row] = count;
            ref float line = ref Unsafe.Add(ref data, (nint)row * cols);
            int j = 0;
            if (compact)
            {
                // Runs of 32 that are all zero (the common case in sparse maps) cost one test; others are compacted
                // 8 at a time without a branch per value: every lane is written, nonzeros first, and the count
                // advances by their number, so the buffers keep 32 entries of slack.
                for (; j <= cols - 32; j += 32)
                {
                    ref float at = ref Unsafe.Add(ref line, j);
                    Vector256<float> v0 = Vector256.LoadUnsafe(ref at), v1 = Vector256.LoadUnsafe(ref at, 8);
                    Vector256<float> v2 = Vector256.LoadUnsafe(ref at, 16), v3 = Vector256.LoadUnsafe(ref at, 24);
                    if (((v0 | v1) | (v2 | v3)).AsUInt32() == Vector256<uint>.Zero) continue;
                    if (count > _values.Length - 32) Grow(count, maxNonzeros);
                    count = Compact(v0, j, count);
                    count = Compact(v1, j + 8, count);
                    count = Compact(v2, j + 16, count);
                    count = Compact(v3, j + 24, count);
                    if (count > maxNonzeros) return Abandon();
                }
                for (; j <= cols - 8; j += 8)
                {
                    if (count > _values.Length - 32) Grow(count, maxNonzeros);
                    count = Compact(Vector256.LoadUnsafe(ref line, (nuint)j), j, count);
                    if (count > maxNonzeros) return Abandon();
                }
            }
            for (; j < cols; j++)
            {
                float v = Unsafe.Add(ref line, j);
                if (v == 0) continue;
                if (count == maxNonzeros) return Abandon();
                if (count > _values.Length - 32) Grow(count, maxNonzeros);
                _cols[count] = j;
                _values[count] = v;
                count++;
            }
        }
        _rowStart[rows] = count;
        Count = count;
        return true;
    }

    /// <summary>Appends the nonzero lanes of v (columns col + lane) at count, writing all 8 lanes; returns the new count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Compact(Vector256<float> v, int col, int count)
    {
        // −0 compares equal to 0 and is skipped: it adds nothing to any sum.
        uint mask = ~Vector256.Equals(v, Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFFu;
        Vector256<int> lanes = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Compaction), (nint)mask);
        Avx2.PermuteVar8x32(v, lanes).StoreUnsafe(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_values), (nint)count));
        (lanes + Vector256.Create(col)).StoreUnsafe(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_cols), (nint)count));
        return count + BitOperations.PopCount(mask);
    }

    /// <summary>Room for at least count + 32 entries (the compaction's slack), doubling, capped at the limit plus that slack.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int count, int maxNonzeros)
    {
        long size = Math.Min((long)maxNonzeros + 32, Math.Max(1024L, 2L * _values.Length));
        size = Math.Min(Math.Max(size, count + 32L), Array.MaxLength);
        Array.Resize(ref _cols, (int)size);
        Array.Resize(ref _values, (int)size);
    }

    /// <summary>For each 8-bit mask, the lanes of its set bits in ascending order (unused lanes 0).</summary>
    private static readonly Vector256<int>[] Compaction = BuildCompaction();

    private static Vector256<int>[] BuildCompaction()
    {
        var table = new Vector256<int>[256];
        Span<int> lanes = stackalloc int[8];
        for (int mask = 0; mask < 256; mask++)
        {
            lanes.Clear();
            int n = 0;
            for (int lane = 0; lane < 8; lane++)
                if ((mask >> lane & 1) != 0) lanes[n++] = lane;
            table[mask] = Vector256.Create((ReadOnlySpan<int>)lanes);
        }
        return table;
    }

    private bool Abandon()
    {
        Planes = Rows = Cols = 0;
        Count = 0;
        _rowStart[0] = 0;
        return false;
    }
}
