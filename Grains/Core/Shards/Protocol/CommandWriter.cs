using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>
/// What a handler writes one shard's command with, on the coordinator: the header, and tensors as blobs whose bytes
/// travel inline while the command's budget lasts and are pushed to the shard as chunks beyond it.
/// </summary>
internal sealed class CommandWriter(MessageHeader header, Func<byte[], Task<Payload>> send)
{
    public MessageHeader Header { get; } = header;

    public Task<TensorBlob> FiltersAsync(FilterBank filters) => TensorWire.BlobAsync(TensorWire.ShapeOf(filters), filters.Data, send);

    /// <summary>Layers trained so far, bottom first.</summary>
    public async Task<FrozenLayerMessage[]> FrozenAsync(IReadOnlyList<FrozenLayer> frozen)
    {
        var messages = new FrozenLayerMessage[frozen.Count];
        for (int i = 0; i < frozen.Count; i++)
            messages[i] = new FrozenLayerMessage { Filters = await FiltersAsync(frozen[i].Filters), InputScale = frozen[i].InputScale };
        return messages;
    }
}
