using System.Diagnostics;
using Distributed.Compute.Tensors;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>
/// What a handler writes a reply with, on the shard: one inline budget shared by every tensor of the reply (the rest
/// wait in the outbox for the coordinator to pull), the work's span for tags, and its wall time.
/// </summary>
internal sealed class ReplyWriter(MessageHeader header, Func<byte[], Payload> pack, Activity? span, double seconds)
{
    public MessageHeader Header { get; } = header;

    public Activity? Span { get; } = span;

    /// <summary>Wall time of the work, seconds.</summary>
    public double Seconds { get; } = seconds;

    public Payload Pack(byte[] bytes) => pack(bytes);

    public TensorBlob Blob(int[] shape, float[] data) => TensorWire.Blob(shape, data, pack);

    public TensorBlob Blob(FilterBank filters) => TensorWire.Blob(TensorWire.ShapeOf(filters), filters.Data, pack);
}
