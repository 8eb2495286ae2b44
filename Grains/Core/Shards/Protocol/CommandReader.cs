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

    /// <summary>The filter version a training command was sent for; one without it is malformed.</summary>
    public static FilterVersion Version(MessageHeader header) =>
        header.FilterVersion ?? throw new InvalidDataException($"a training command carries no filter version ({header}).");

    public FrozenLayer[] Frozen(IReadOnlyList<FrozenLayerMessage> frozen) =>
        [.. frozen.Select(f => new FrozenLayer(Filters(f.Filters), f.InputScale))];
}
