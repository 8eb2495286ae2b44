using System.Security.Cryptography;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// Reassembles one chunked transfer on the receiving side. Chunks may arrive in any order and a chunk may be sent
/// twice (a retried call); anything else that does not match the transfer is refused, and the result is checked
/// against the sender's length and SHA-256 before anyone sees it.
/// </summary>
public sealed class ChunkAssembler
{
    private readonly byte[] _buffer;
    private readonly bool[] _received;
    private int _receivedCount;

    public ChunkAssembler(Guid transfer, int count, long totalLength, byte[] digest)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        ArgumentNullException.ThrowIfNull(digest);
        if (totalLength > Array.MaxLength) throw new InvalidDataException($"transfer {transfer}: {totalLength} bytes do not fit one array.");
        Transfer = transfer;
        Count = count;
        Digest = digest;
        _buffer = new byte[totalLength];
        _received = new bool[count];
    }

    public static ChunkAssembler For(PayloadChunk first) => new(first.Transfer, first.Count, first.TotalLength, first.Digest);

    public Guid Transfer { get; }
    public int Count { get; }
    public byte[] Digest { get; }
    public long TotalLength => _buffer.LongLength;
    public bool IsComplete => _receivedCount == Count;

    public void Add(PayloadChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        string at = $"transfer {Transfer}, chunk {chunk.Index}";
        if (chunk.Transfer != Transfer) throw new InvalidDataException($"{at}: belongs to transfer {chunk.Transfer}.");
        if (chunk.Count != Count || chunk.TotalLength != TotalLength || !chunk.Digest.AsSpan().SequenceEqual(Digest))
            throw new InvalidDataException($"{at}: describes {chunk.Count} chunks / {chunk.TotalLength} bytes; the transfer has {Count} / {TotalLength}.");
        if (chunk.Index < 0 || chunk.Index >= Count) throw new InvalidDataException($"{at}: index outside 0..{Count - 1}.");
        if (chunk.Offset < 0 || chunk.Offset + chunk.Data.LongLength > TotalLength)
            throw new InvalidDataException($"{at}: bytes [{chunk.Offset}, {chunk.Offset + chunk.Data.LongLength}) outside the payload's {TotalLength}.");
        if (_received[chunk.Index])
        {
            if (!_buffer.AsSpan((int)chunk.Offset, chunk.Data.Length).SequenceEqual(chunk.Data))
                throw new InvalidDataException($"{at}: received twice with different bytes.");
            return;
        }
        chunk.Data.CopyTo(_buffer.AsSpan((int)chunk.Offset));
        _received[chunk.Index] = true;
        _receivedCount++;
    }

    /// <summary>The payload, once every chunk is in and the digest matches.</summary>
    public byte[] Complete()
    {
        if (!IsComplete)
        {
            int missing = Array.IndexOf(_received, false);
            throw new InvalidDataException($"transfer {Transfer}: {Count - _receivedCount} of {Count} chunks missing (first: {missing}).");
        }
        if (!SHA256.HashData(_buffer).AsSpan().SequenceEqual(Digest))
            throw new InvalidDataException($"transfer {Transfer}: reassembled {TotalLength} bytes do not match the sender's SHA-256.");
        return _buffer;
    }
}
