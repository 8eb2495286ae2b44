using Orleans.Placement;

namespace Distributed.Grains.Placement;

/// <summary>
/// Places grains whose key ends in <c>/{index}</c> (image shards, <c>"job/3"</c>) on silo <c>index mod S</c> of the S
/// compatible silos in a fixed order, so a job's shards spread evenly however many jobs run; tile grains
/// (<c>"job/3/{solve}/t5"</c>) on silo <c>(3 + 5) mod S</c>, so an image's tiles spread from its owner's silo. Keys without an index
/// fall back to a random silo.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("distributed.shard-spread-placement")]
public sealed class ShardSpreadPlacement : PlacementStrategy
{
    internal static ShardSpreadPlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class for <see cref="ShardSpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardSpreadPlacementAttribute() : PlacementAttribute(ShardSpreadPlacement.Singleton);
