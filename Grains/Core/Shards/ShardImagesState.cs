namespace Distributed.Grains.Shards;

/// <summary>A shard's persisted images: encoded bytes as uploaded, in ascending global index.</summary>
[GenerateSerializer, Alias("distributed.shard-images-state")]
public sealed class ShardImagesState
{
    [Id(0)] public List<ShardImageRecord> Images { get; set; } = [];
    [Id(1)] public bool Sealed { get; set; }
}

[GenerateSerializer, Immutable, Alias("distributed.shard-image-record")]
public sealed record ShardImageRecord
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required byte[] Encoded { get; init; }
}
