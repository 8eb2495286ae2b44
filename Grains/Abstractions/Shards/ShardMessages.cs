using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Shards;

/// <summary>One image as uploaded: its global index in the job, a display name, and the encoded file bytes.</summary>
[GenerateSerializer, Immutable, Alias("distributed.encoded-image")]
public sealed record EncodedImage
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required Payload Content { get; init; }
}

/// <summary>A batch of uploaded images; the batch's inline bytes stay under the message limit.</summary>
[GenerateSerializer, Immutable, Alias("distributed.image-batch")]
public sealed record ImageBatch
{
    [Id(0)] public required MessageHeader Header { get; init; }
    [Id(1)] public required EncodedImage[] Images { get; init; }
}

/// <summary>An image a shard holds, as the shard sees it: for checking an upload end to end.</summary>
[GenerateSerializer, Immutable, Alias("distributed.stored-image")]
public sealed record StoredImage
{
    [Id(0)] public required int Index { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required long Bytes { get; init; }

    /// <summary>SHA-256 of the stored bytes, lowercase hex.</summary>
    [Id(3)] public required string Sha256 { get; init; }
}

/// <summary>What a shard holds and where it runs.</summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-description")]
public sealed record ShardDescription
{
    [Id(0)] public required MessageHeader Header { get; init; }
    [Id(1)] public required int Shard { get; init; }

    /// <summary>The silo hosting this activation (Orleans' runtime identity).</summary>
    [Id(2)] public required string Silo { get; init; }
    [Id(3)] public required StoredImage[] Images { get; init; }
    [Id(4)] public required bool Sealed { get; init; }
}
