using System.Runtime.InteropServices;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>float[] (and int[]) ↔ byte[] without per-element work (both little-endian on every platform .NET runs Orleans on).</summary>
public static class FloatBytes
{
    public static byte[] From(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    public static byte[] From(ReadOnlySpan<int> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>The int32s of <paramref name="bytes"/>, or an InvalidDataException when they are not a whole number of them.</summary>
    public static int[] ToInts(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length % sizeof(int) != 0) throw new InvalidDataException($"int32 bytes: {bytes.Length} is not a multiple of {sizeof(int)}.");
        return MemoryMarshal.Cast<byte, int>(bytes).ToArray();
    }

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
