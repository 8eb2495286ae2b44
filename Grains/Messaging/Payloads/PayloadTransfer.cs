using Distributed.Grains.Messaging.Telemetry;


using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// The two ends of a payload larger than one message. Push: <see cref="SendAsync"/> stages the chunks on the receiver
/// one call at a time and returns the reference to put in the real message. Pull: <see cref="FetchAsync"/> takes a
/// reference from a reply and fetches its chunks from the grain that offered it.
/// </summary>
public static class PayloadTransfer
{
    /// <summary>
    /// Makes <paramref name="bytes"/> sendable to <paramref name="receiver"/>: inline when it fits under the limit,
    /// otherwise its chunks are staged on the receiver first (sequentially: each call is one message under the limit).
    /// </summary>
    public static Task<Payload> SendAsync(IPayloadReceiver receiver, MessageHeader header, byte[] bytes, MessageLimits limits, CancellationToken cancellationToken = default) =>
        SendAsync(receiver, header, bytes, limits, new InlineBudget(limits), cancellationToken);

    /// <summary>As above, drawing inline bytes from <paramref name="budget"/>, shared by every payload of one message.</summary>
    public static async Task<Payload> SendAsync(IPayloadReceiver receiver, MessageHeader header, byte[] bytes, MessageLimits limits, InlineBudget budget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(budget);
        DistributedTelemetry.BytesSent.Add(bytes.LongLength);
        if (budget.TryTake(bytes.LongLength)) return Payload.FromInline(bytes);
        Payload reference = PayloadChunker.Describe(Guid.NewGuid(), bytes, limits.PayloadBytes);
        using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.SendChunks, header);
        span?.SetTag(TelemetryNames.Tags.Bytes, bytes.LongLength);
        span?.SetTag(TelemetryNames.Tags.Chunks, reference.Chunks);
        for (int i = 0; i < reference.Chunks; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await receiver.PutChunkAsync(PayloadChunker.Chunk(header, reference, bytes, limits.PayloadBytes, i));
        }
        return reference;
    }

    /// <summary>The bytes of a payload from a reply of <paramref name="source"/>, fetched chunk by chunk when not inline.</summary>
    public static async Task<byte[]> FetchAsync(IPayloadSource source, MessageHeader header, Payload payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Inline is { } inline) return inline;
        using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.FetchChunks, header);
        span?.SetTag(TelemetryNames.Tags.Bytes, payload.Length);
        span?.SetTag(TelemetryNames.Tags.Chunks, payload.Chunks);
        var assembler = new ChunkAssembler(payload.Transfer, payload.Chunks, payload.Length, payload.Digest);
        for (int i = 0; i < payload.Chunks; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            assembler.Add(await source.GetChunkAsync(header, payload.Transfer, i));
        }
        return assembler.Complete();
    }
}
