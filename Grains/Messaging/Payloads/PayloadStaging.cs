using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// A receiving grain's chunks in flight: <see cref="Put"/> stages a chunk, <see cref="Resolve"/> turns a payload
/// reference in a later message into its bytes. Claims are checked before anything is kept: one transfer may not
/// claim more than <see cref="MessageLimits.MaxTransferBytes"/>, and the claims of every pending transfer together not
/// more than <see cref="MessageLimits.MaxStagedBytes"/> (nor a caller's own budget), so a sender cannot make a grain
/// reserve what it never sends. Not thread-safe: one grain activation owns it.
/// </summary>
public sealed class PayloadStaging(MessageLimits limits)
{
    /// <summary>Transfers a grain may hold half-received: a sender that vanished mid-transfer cannot pin more.</summary>
    public const int MaxPendingTransfers = 64;

    private readonly Dictionary<Guid, ChunkAssembler> _pending = [];

    public PayloadStaging()
        : this(MessageLimits.Default)
    {
    }

    public int Pending => _pending.Count;

    /// <summary>What the pending transfers claim in total (bytes they will hold once complete).</summary>
    public long ClaimedBytes => _pending.Values.Sum(a => a.TotalLength);

    /// <summary>Stages a chunk; a new transfer's claim must fit the limits and <paramref name="budget"/> (bytes left to the caller).</summary>
    public void Put(PayloadChunk chunk, long budget = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (!_pending.TryGetValue(chunk.Transfer, out ChunkAssembler? assembler))
        {
            if (_pending.Count >= MaxPendingTransfers)
                throw new InvalidOperationException($"{_pending.Count} transfers are already pending here; finish or drop one first.");
            long claimed = ClaimedBytes;
            if (claimed + chunk.TotalLength > limits.MaxStagedBytes)
                throw new PayloadLimitException($"transfer {chunk.Transfer}: {chunk.TotalLength} bytes claimed with {claimed} already staged here; at most {limits.MaxStagedBytes} bytes may be staged at once.");
            if (chunk.TotalLength > budget)
                throw new PayloadLimitException($"transfer {chunk.Transfer}: {chunk.TotalLength} bytes claimed; {Math.Max(0, budget)} bytes are left of this receiver's budget.");
            assembler = ChunkAssembler.For(chunk, limits.MaxTransferBytes);
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
            throw new PayloadMissingException($"transfer {payload.Transfer}: no chunk of it arrived here.");
        if (assembler.TotalLength != payload.Length || assembler.Count != payload.Chunks || !assembler.Digest.AsSpan().SequenceEqual(payload.Digest))
            throw new InvalidDataException($"transfer {payload.Transfer}: the reference does not match the chunks received.");
        byte[] bytes = assembler.Complete();
        _pending.Remove(payload.Transfer);
        return bytes;
    }

    /// <summary>Forgets every half-received transfer (a new job, a cancelled upload).</summary>
    public void Clear() => _pending.Clear();
}
