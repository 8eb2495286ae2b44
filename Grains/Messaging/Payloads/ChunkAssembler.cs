using System.Security.Cryptography;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// Reassembles one chunked transfer on the receiving side. Chunks may arrive in any order and a chunk may be sent
/// twice (a retried call); anything else that does not match the transfer is refused, and the result is checked
/// against the sender's length and SHA-256 before anyone sees it. Nothing is allocated from what a chunk claims:
/// the chunks received are kept as they came (memory the sender has actually sent) and joined only once all are in,
/// so a sender claiming gigabytes and sending a byte costs a byte.
/// </summary>
public sealed class ChunkAssembler
{
    private readonly Dictionary<int, PayloadChunk> _received = [];
    private long _receivedBytes;

    /// <param name="maxBytes">The largest transfer this receiver takes; a larger claim is refused before anything is kept.</param>
    public ChunkAssembler(Guid transfer, int count, long totalLength, byte[] digest, long maxBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        ArgumentNullException.ThrowIfNull(digest);
        long limit = Math.Min(maxBytes, Array.MaxLength);
        if (totalLength > limit) throw new PayloadLimitException($"transfer {transfer}: {totalLength} bytes claimed; this receiver takes at most {limit} bytes in one transfer.");
        // Every chunk but an empty payload's single one carries at least a byte.
        if (count > Math.Max(1, totalLength)) throw new InvalidDataException($"transfer {transfer}: {count} chunks claimed for {totalLength} bytes.");
        if (digest.Length != SHA256.HashSizeInBytes) throw new InvalidDataException($"transfer {transfer}: a digest of {digest.Length} bytes; SHA-256 has {SHA256.HashSizeInBytes}.");
        Transfer = transfer;
        Count = count;
        TotalLength = totalLength;
        Digest = digest;
    }

    public static ChunkAssembler For(PayloadChunk first, long maxBytes = long.MaxValue) =>
        new(first.Transfer, first.Count, first.TotalLength, first.Digest, maxBytes);

    public Guid Transfer { get; }
    public int Count { get; }
    public byte[] Digest { get; }
    public long TotalLength { get; }
    public bool IsComplete => _received.Count == Count;

    /// <summary>Bytes of the chunks received so far (what this transfer holds in memory).</summary>
    public long ReceivedBytes => _receivedBytes;

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
        if (_received.TryGetValue(chunk.Index, out PayloadChunk? earlier))
        {
            if (earlier.Offset != chunk.Offset || !earlier.Data.AsSpan().SequenceEqual(chunk.Data))
                throw new InvalidDataException($"{at}: received twice with different bytes.");
            return;
        }
        if (_receivedBytes + chunk.Data.LongLength > TotalLength)
            throw new InvalidDataException($"{at}: {_receivedBytes + chunk.Data.LongLength} bytes received for a payload of {TotalLength}.");
        _received.Add(chunk.Index, chunk);
        _receivedBytes += chunk.Data.LongLength;
    }

    /// <summary>The payload, once every chunk is in, they tile it without gap or overlap, and the digest matches.</summary>
    public byte[] Complete()
    {
        if (!IsComplete)
        {
            int missing = Enumerable.Range(0, Count).First(i => !_received.ContainsKey(i));
            throw new InvalidDataException($"transfer {Transfer}: {Count - _received.Count} of {Count} chunks missing (first: {missing}).");
        }
        if (_receivedBytes != TotalLength) throw new InvalidDataException($"transfer {Transfer}: the chunks hold {_receivedBytes} bytes; the payload has {TotalLength}.");
        var buffer = new byte[TotalLength];
        long next = 0;
        for (int i = 0; i < Count; i++)
        {
            PayloadChunk chunk = _received[i];
            if (chunk.Offset != next) throw new InvalidDataException($"transfer {Transfer}, chunk {i}: starts at {chunk.Offset}, expected {next}.");
            chunk.Data.CopyTo(buffer.AsSpan((int)next));
            next += chunk.Data.LongLength;
        }
        if (!SHA256.HashData(buffer).AsSpan().SequenceEqual(Digest))
            throw new InvalidDataException($"transfer {Transfer}: reassembled {TotalLength} bytes do not match the sender's SHA-256.");
        return buffer;
    }
}
