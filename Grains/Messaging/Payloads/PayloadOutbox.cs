using Distributed.Grains.Messaging.Telemetry;


using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// A replying grain's payloads too large for one reply: <see cref="Offer"/> returns an inline payload when it fits,
/// otherwise keeps the bytes and returns a reference the caller pulls chunk by chunk with <see cref="Take"/>. A transfer
/// is forgotten once its last chunk is taken, or when the next one replaces it. Not thread-safe: one activation owns it.
/// </summary>
public sealed class PayloadOutbox
{
    /// <summary>Offered transfers kept at once (a reply may hold many); beyond it the oldest goes (its caller has moved on).</summary>
    public const int MaxHeldTransfers = 1024;

    private readonly Dictionary<Guid, (Payload Reference, byte[] Bytes)> _held = [];
    private readonly Queue<Guid> _order = new();

    public int Held => _held.Count;

    public Payload Offer(byte[] bytes, MessageLimits limits) => Offer(bytes, limits, new InlineBudget(limits));

    /// <summary>Inline when <paramref name="budget"/> (shared by the reply's payloads) still has room, else held for pulling.</summary>
    public Payload Offer(byte[] bytes, MessageLimits limits, InlineBudget budget)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(budget);
        DistributedTelemetry.BytesSent.Add(bytes.LongLength);
        if (budget.TryTake(bytes.LongLength)) return Payload.FromInline(bytes);
        while (_held.Count >= MaxHeldTransfers) _held.Remove(_order.Dequeue());
        Payload reference = PayloadChunker.Describe(Guid.NewGuid(), bytes, limits.PayloadBytes);
        _held.Add(reference.Transfer, (reference, bytes));
        _order.Enqueue(reference.Transfer);
        return reference;
    }

    public PayloadChunk Take(MessageHeader header, Guid transfer, int index, MessageLimits limits)
    {
        if (!_held.TryGetValue(transfer, out (Payload Reference, byte[] Bytes) held))
            throw new InvalidDataException($"transfer {transfer}: not held here ({header}); it was completed, replaced or never offered.");
        PayloadChunk chunk = PayloadChunker.Chunk(header, held.Reference, held.Bytes, limits.PayloadBytes, index);
        if (index == held.Reference.Chunks - 1) _held.Remove(transfer);
        return chunk;
    }

    public void Clear()
    {
        _held.Clear();
        _order.Clear();
    }
}
