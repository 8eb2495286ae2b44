using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// A receiving grain's chunks in flight: <see cref="Put"/> stages a chunk, <see cref="Resolve"/> turns a payload
/// reference in a later message into its bytes. Not thread-safe: one grain activation owns it.
/// </summary>
public sealed class PayloadStaging
{
    /// <summary>Transfers a grain may hold half-received: a sender that vanished mid-transfer cannot pin more.</summary>
    public const int MaxPendingTransfers = 64;

    private readonly Dictionary<Guid, ChunkAssembler> _pending = [];

    public int Pending => _pending.Count;

    public void Put(PayloadChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (!_pending.TryGetValue(chunk.Transfer, out ChunkAssembler? assembler))
        {
            if (_pending.Count >= MaxPendingTransfers)
                throw new InvalidOperationException($"{_pending.Count} transfers are already pending here; finish or drop one first.");
            assembler = ChunkAssembler.For(chunk);
            _pending.Add(chunk.Transfer, assembler);
        }
        assembler.Add(chunk);
    }

    /// <summary>The bytes of <paramref name="payload"/>: inline, or the completed, checked transfer (then forgotten).</summary>
    public byte[] Resolve(Payload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Inline is { } inline) return inline;
        if (!_pending.TryGetValue(payload.Transfer, out ChunkAssembler? assembler))
            throw new InvalidDataException($"transfer {payload.Transfer}: no chunk of it arrived here.");
        if (assembler.TotalLength != payload.Length || assembler.Count != payload.Chunks || !assembler.Digest.AsSpan().SequenceEqual(payload.Digest))
            throw new InvalidDataException($"transfer {payload.Transfer}: the reference does not match the chunks received.");
        byte[] bytes = assembler.Complete();
        _pending.Remove(payload.Transfer);
        return bytes;
    }

    /// <summary>Forgets every half-received transfer (a new job, a cancelled upload).</summary>
    public void Clear() => _pending.Clear();
}
