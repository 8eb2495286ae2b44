namespace Distributed.Compute.Tensors;

/// <summary>
/// A stack of 2-D planes, <c>[Planes, Rows, Cols]</c>, float32, row-major, contiguous: images (planes = colour
/// channels or the previous layer's maps), residuals and feature maps all use this one layout.
/// Element <c>(p, r, c)</c> lives at <c>Data[(p * Rows + r) * Cols + c]</c>.
/// </summary>
public sealed class Tensor3
{
    public Tensor3(int planes, int rows, int cols)
        : this(planes, rows, cols, new float[CheckedLength(planes, rows, cols)])
    {
    }

    public Tensor3(int planes, int rows, int cols, float[] data)
    {
        long length = CheckedLength(planes, rows, cols);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != length)
            throw new ArgumentException($"data has {data.Length} elements; shape [{planes}, {rows}, {cols}] needs {length}.", nameof(data));
        Planes = planes;
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public int Planes { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Elements of one plane: Rows × Cols.</summary>
    public int PlaneLength => Rows * Cols;

    public int Length => Data.Length;

    public float[] Data { get; }

    public Span<float> Plane(int p) => Data.AsSpan(p * PlaneLength, PlaneLength);

    public ReadOnlySpan<float> ReadPlane(int p) => Data.AsSpan(p * PlaneLength, PlaneLength);

    public Span<float> Span => Data;

    public ref float this[int p, int r, int c] => ref Data[(p * Rows + r) * Cols + c];

    public bool SameShape(Tensor3 other) => Planes == other.Planes && Rows == other.Rows && Cols == other.Cols;

    public Tensor3 Clone() => new(Planes, Rows, Cols, (float[])Data.Clone());

    public void Clear() => Array.Clear(Data);

    public override string ToString() => $"[{Planes}, {Rows}, {Cols}]";

    private static int CheckedLength(int planes, int rows, int cols)
    {
        if (planes < 0 || rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(planes), $"shape [{planes}, {rows}, {cols}] has a negative extent.");
        long length = (long)planes * rows * cols;
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(planes), $"shape [{planes}, {rows}, {cols}] has {length} elements, more than an array can hold.");
        return (int)length;
    }
}
