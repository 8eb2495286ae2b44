using System.Runtime.InteropServices;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Wire;

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
