using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>What a handler reads a command with, on the shard: payloads resolve inline or from the chunks staged ahead.</summary>
internal sealed class CommandReader(Func<Payload, byte[]> resolve)
{
    public FilterBank Filters(TensorBlob blob) => TensorWire.ToFilterBank(blob, resolve(blob.Data));

    public FrozenLayer[] Frozen(IReadOnlyList<FrozenLayerMessage> frozen) =>
        [.. frozen.Select(f => new FrozenLayer(Filters(f.Filters), f.InputScale))];
}
