using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The nonzeros of a maps tensor z [K, Hz, Wz], gathered by one scan in storage order and grouped by map row: the
/// nonzeros of row p of map k are entries <c>RowStart[k·Hz + p] .. RowStart[k·Hz + p + 1] − 1</c>, each a column
/// (<see cref="ColumnsOf"/>) and a value (<see cref="ValuesOf"/>), columns ascending. The row index lets the sparse
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

    public ReadOnlySpan<int> ColumnsOf => _cols.AsSpan(0, Count);

    public ReadOnlySpan<float> ValuesOf => _values.AsSpan(0, Count);

    internal int[] RowStartArray => _rowStart;
    internal int[] ColumnArray => _cols;
    internal float[] ValueArray => _values;

    /// <summary>Gathers every nonzero of <paramref name="z"/>, growing the buffers if needed.</summary>
    public void Gather(Tensor3 z)
    {
        ArgumentNullException.ThrowIfNull(z);
        Scan(z, int.MaxValue);
    }

    /// <summary>
    /// Gathers the nonzeros of <paramref name="z"/> if there are at most <paramref name="maxNonzeros"/>; otherwise stops
    /// as soon as that many are exceeded (so a dense tensor costs only a partial scan), leaves the instance empty and
    /// returns false. Buffers grow only up to <paramref name="maxNonzeros"/>.
    /// </summary>
    public bool TryGather(Tensor3 z, int maxNonzeros)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNonzeros);
        return Scan(z, maxNonzeros);
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

    private bool Scan(Tensor3 z, int maxNonzeros)
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
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= cols - Vector256<float>.Count; j += Vector256<float>.Count)
                {
                    // −0 compares equal to 0 and is skipped: it adds nothing to any sum.
                    uint mask = ~Vector256.Equals(Vector256.LoadUnsafe(ref line, (nuint)j), Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFFu;
                    while (mask != 0)
                    {
                        int lane = System.Numerics.BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        if (!Append(ref count, maxNonzeros, j + lane, Unsafe.Add(ref line, j + lane))) return Abandon();
                    }
                }
            }
            for (; j < cols; j++)
            {
                float v = Unsafe.Add(ref line, j);
                if (v != 0 && !Append(ref count, maxNonzeros, j, v)) return Abandon();
            }
        }
        _rowStart[rows] = count;
        Count = count;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Append(ref int count, int maxNonzeros, int col, float value)
    {
        if (count == maxNonzeros) return false;
        if (count == _values.Length) Grow(maxNonzeros);
        _cols[count] = col;
        _values[count] = value;
        count++;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int maxNonzeros)
    {
        int size = (int)Math.Min(Math.Min((long)maxNonzeros, Array.MaxLength), Math.Max(1024L, 2L * _values.Length));
        Array.Resize(ref _cols, size);
        Array.Resize(ref _values, size);
    }

    private bool Abandon()
    {
        Planes = Rows = Cols = 0;
        Count = 0;
        _rowStart[0] = 0;
        return false;
    }
}
