namespace Distributed.Grains.Shards;

/// <summary>
/// A shard's persisted state: its setup and either the uploaded images (encoded bytes, ascending global index) or the
/// data-root paths it reads them from. Enough for an activation on another silo to rebuild everything else.
/// </summary>
[GenerateSerializer, Alias("distributed.shard-images-state")]
public sealed class ShardImagesState
{
    [Id(0)] public List<ShardImageRecord> Images { get; set; } = [];
    [Id(1)] public bool Sealed { get; set; }
    [Id(2)] public string SpecJson { get; set; } = "";
    [Id(3)] public int[] Expected { get; set; } = [];
    [Id(4)] public long MaxPixels { get; set; }
    [Id(5)] public long MaxFileBytes { get; set; }
    [Id(6)] public int JobImages { get; set; }
}

/// <summary>One image: uploaded bytes, or a path under the data root (then <see cref="Encoded"/> is empty).</summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-image-record")]
public sealed record ShardImageRecord
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required byte[] Encoded { get; init; }
    [Id(3)] public string? RelativePath { get; init; }
}
