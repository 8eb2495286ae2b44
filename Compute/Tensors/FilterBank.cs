namespace Distributed.Compute.Tensors;

/// <summary>
/// The filters of one layer, <c>[Maps K, Inputs C, Size s, Size s]</c>, float32, row-major: filter <c>f_{k,c}</c> is the
/// s×s plane at offset <c>(k * C + c) * s * s</c>. Numpy-compatible as written to <c>filters-L{n}.npy</c>.
/// </summary>
public sealed class FilterBank
{
    public FilterBank(int maps, int inputs, int size)
        : this(maps, inputs, size, new float[Length(maps, inputs, size)])
    {
    }

    public FilterBank(int maps, int inputs, int size, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int length = Length(maps, inputs, size);
        if (data.Length != length)
            throw new ArgumentException($"data has {data.Length} elements; filters [{maps}, {inputs}, {size}, {size}] need {length}.", nameof(data));
        Maps = maps;
        Inputs = inputs;
        Size = size;
        Data = data;
    }

    public int Maps { get; }
    public int Inputs { get; }
    public int Size { get; }

    /// <summary>Elements of one filter plane: s².</summary>
    public int PlaneLength => Size * Size;

    public float[] Data { get; }

    public Span<float> Plane(int k, int c) => Data.AsSpan((k * Inputs + c) * PlaneLength, PlaneLength);

    public ReadOnlySpan<float> ReadPlane(int k, int c) => Data.AsSpan((k * Inputs + c) * PlaneLength, PlaneLength);

    public ref float this[int k, int c, int u, int v] => ref Data[((k * Inputs + c) * Size + u) * Size + v];

    public bool SameShape(FilterBank other) => Maps == other.Maps && Inputs == other.Inputs && Size == other.Size;

    public FilterBank Clone() => new(Maps, Inputs, Size, (float[])Data.Clone());

    public override string ToString() => $"[{Maps}, {Inputs}, {Size}, {Size}]";

    private static int Length(int maps, int inputs, int size)
    {
        if (maps <= 0 || inputs <= 0 || size <= 0)
            throw new ArgumentOutOfRangeException(nameof(maps), $"filters [{maps}, {inputs}, {size}, {size}] need positive extents.");
        long length = (long)maps * inputs * size * size;
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maps), $"filters [{maps}, {inputs}, {size}, {size}] are too large.");
        return (int)length;
    }
}
