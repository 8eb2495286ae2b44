namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// A float32 tensor on the wire: its shape and its raw little-endian bytes (row-major, as in memory). Orleans writes a
/// <c>float[]</c> element by element (~5 bytes a float); a <see cref="Payload"/> of bytes is copied as a block.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.tensor")]
public sealed record TensorBlob
{
    [Id(0)] public required int[] Shape { get; init; }
    [Id(1)] public required Payload Data { get; init; }

    public long Elements => Shape.Aggregate(1L, (a, d) => a * d);
}
