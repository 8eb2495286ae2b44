using System.Runtime.InteropServices;
using Distributed.Compute.Inference;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>Border moves ↔ raw bytes, <see cref="BorderMove.Bytes"/> a move (five 4-byte fields, little-endian as in memory).</summary>
public static class BorderMoveWire
{
    public static byte[] From(ReadOnlySpan<BorderMove> moves) => MemoryMarshal.AsBytes(moves).ToArray();

    public static BorderMove[] To(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length % BorderMove.Bytes != 0)
            throw new InvalidDataException($"border moves: {bytes.Length} bytes is not a whole number of {BorderMove.Bytes}-byte moves.");
        return MemoryMarshal.Cast<byte, BorderMove>(bytes).ToArray();
    }
}
