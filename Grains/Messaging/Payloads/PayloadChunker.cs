using System.Security.Cryptography;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// Splits a payload into numbered chunks of at most <see cref="MessageLimits.PayloadBytes"/> bytes and describes the
/// transfer; <see cref="ChunkAssembler"/> puts it back together on the other side and checks it.
/// </summary>
public static class PayloadChunker
{
    /// <summary>Chunks needed for <paramref name="length"/> bytes at <paramref name="chunkBytes"/> per chunk (at least one).</summary>
    public static int ChunkCount(long length, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        long count = Math.Max(1, (length + chunkBytes - 1) / chunkBytes);
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), $"{length} bytes need more than {int.MaxValue} chunks of {chunkBytes}.");
        return (int)count;
    }

    /// <summary>The reference a message carries in place of <paramref name="payload"/> once its chunks are sent.</summary>
    public static Payload Describe(Guid transfer, ReadOnlySpan<byte> payload, int chunkBytes) => new()
    {
        Transfer = transfer,
        Length = payload.Length,
        Chunks = ChunkCount(payload.Length, chunkBytes),
        Digest = SHA256.HashData(payload),
    };

    /// <summary>Chunk <paramref name="index"/> of the transfer <paramref name="reference"/> describes.</summary>
    public static PayloadChunk Chunk(MessageHeader header, Payload reference, ReadOnlySpan<byte> payload, int chunkBytes, int index)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.IsInline) throw new ArgumentException("an inline payload has no chunks.", nameof(reference));
        if (payload.Length != reference.Length) throw new ArgumentException($"payload has {payload.Length} bytes; the reference describes {reference.Length}.", nameof(payload));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, reference.Chunks);
        long offset = (long)index * chunkBytes;
        int length = (int)Math.Min(chunkBytes, payload.Length - offset);
        return new PayloadChunk
        {
            Header = header,
            Transfer = reference.Transfer,
            Index = index,
            Count = reference.Chunks,
            Offset = offset,
            TotalLength = reference.Length,
            Digest = reference.Digest,
            Data = payload.Slice((int)offset, length).ToArray(),
        };
    }

    /// <summary>Every chunk of <paramref name="payload"/>, in order, under a new transfer id.</summary>
    public static IReadOnlyList<PayloadChunk> Split(MessageHeader header, byte[] payload, int chunkBytes, out Payload reference)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Payload described = Describe(Guid.NewGuid(), payload, chunkBytes);
        reference = described;
        var chunks = new PayloadChunk[described.Chunks];
        for (int i = 0; i < chunks.Length; i++) chunks[i] = Chunk(header, described, payload, chunkBytes, i);
        return chunks;
    }
}
