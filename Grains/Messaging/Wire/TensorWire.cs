using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>
/// Compute tensors ↔ <see cref="TensorBlob"/>s. Packing is given a function that turns bytes into a payload (inline,
/// pushed as chunks, or held for pulling); unpacking one that turns a payload back into bytes.
/// </summary>
public static class TensorWire
{
    public static TensorBlob Blob(int[] shape, float[] data, Func<byte[], Payload> pack) =>
        new() { Shape = shape, Data = pack(FloatBytes.From(data)) };

    public static async Task<TensorBlob> BlobAsync(int[] shape, float[] data, Func<byte[], Task<Payload>> pack) =>
        new() { Shape = shape, Data = await pack(FloatBytes.From(data)) };

    public static int[] ShapeOf(FilterBank f) => [f.Maps, f.Inputs, f.Size, f.Size];

    public static int[] ShapeOf(Tensor3 t) => [t.Planes, t.Rows, t.Cols];

    /// <summary>A's blocks: [pairs, s², s²].</summary>
    public static int[] GramShape(FilterNormalEquations statistics) =>
        [statistics.Pairs.Count, statistics.Size * statistics.Size, statistics.Size * statistics.Size];

    public static float[] Floats(TensorBlob blob, byte[] bytes) => FloatBytes.To(bytes, blob.Elements);

    public static FilterBank ToFilterBank(TensorBlob blob, byte[] bytes)
    {
        int[] s = blob.Shape;
        if (s.Length != 4 || s[2] != s[3]) throw new InvalidDataException($"filters need shape [K, C, s, s]; got [{string.Join(", ", s)}].");
        return new FilterBank(s[0], s[1], s[2], Floats(blob, bytes));
    }

    public static Tensor3 ToTensor3(TensorBlob blob, byte[] bytes)
    {
        int[] s = blob.Shape;
        if (s.Length != 3) throw new InvalidDataException($"a tensor needs shape [planes, rows, cols]; got [{string.Join(", ", s)}].");
        return new Tensor3(s[0], s[1], s[2], Floats(blob, bytes));
    }

    /// <summary>Rebuilds a shard's A and b for <paramref name="connectivity"/> from their wire form.</summary>
    public static FilterNormalEquations ToNormalEquations(Connectivity connectivity, FilterBank b, TensorBlob gram, byte[] gramBytes, double sumSquaredInputs, long images)
    {
        var statistics = new FilterNormalEquations(connectivity, b.Size);
        if (!statistics.B.SameShape(b)) throw new InvalidDataException($"b is {b}; the layer's filters are {statistics.B}.");
        float[] values = Floats(gram, gramBytes);
        if (values.Length != statistics.Gram.Length)
            throw new InvalidDataException($"A has {values.Length} values; {statistics.Pairs.Count} map pairs of {b.Size}⁴ need {statistics.Gram.Length}.");
        values.CopyTo(statistics.Gram, 0);
        b.Data.CopyTo(statistics.B.Data, 0);
        statistics.SetTotals(sumSquaredInputs, images);
        return statistics;
    }
}
