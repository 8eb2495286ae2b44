using System.Runtime.InteropServices;

namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// A float32 tensor on the wire: its shape and its raw little-endian bytes (row-major, as in memory). Orleans writes a
/// <c>float[]</c> element by element (~5 bytes a float); a <see cref="Payload"/> of bytes is copied as a block.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.tensor")]
public sealed record TensorBlob
{
    [Id(0)] public required int[] Shape { get; init; }
    [Id(1)] public required Payload Data { get; init; }

    public long Elements => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>float[] ↔ byte[] without per-element work (both little-endian on every platform .NET runs Orleans on).</summary>
public static class FloatBytes
{
    public static byte[] From(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>The floats of <paramref name="bytes"/>; <paramref name="expected"/> elements or an InvalidDataException.</summary>
    public static float[] To(byte[] bytes, long expected)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.LongLength != expected * sizeof(float))
            throw new InvalidDataException($"tensor bytes: {bytes.LongLength}; its shape needs {expected} floats = {expected * sizeof(float)} bytes.");
        var values = new float[expected];
        bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
