namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// A byte payload inside a message: carried <see cref="Inline"/> when it fits under the limit, otherwise a reference
/// to <see cref="Chunks"/> chunks of one transfer, staged on the receiver beforehand (push) or held by the sender until
/// fetched (pull). <see cref="Digest"/> (SHA-256 of the whole payload) lets the receiver check the reassembly.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.payload")]
public sealed record Payload
{
    [Id(0)] public byte[]? Inline { get; init; }
    [Id(1)] public Guid Transfer { get; init; }
    [Id(2)] public long Length { get; init; }
    [Id(3)] public int Chunks { get; init; }
    [Id(4)] public byte[] Digest { get; init; } = [];

    public bool IsInline => Inline is not null;

    public static Payload FromInline(byte[] bytes) => new() { Inline = bytes, Length = bytes.Length };

    /// <summary>Bytes this reference itself puts in a message (the inline bytes, or a few dozen for a reference).</summary>
    public long WireBytes => Inline?.LongLength ?? 64;
}

/// <summary>One numbered piece of a chunked transfer: bytes [Offset, Offset + Data.Length) of the payload.</summary>
[GenerateSerializer, Immutable, Alias("distributed.payload-chunk")]
public sealed record PayloadChunk
{
    [Id(0)] public required MessageHeader Header { get; init; }
    [Id(1)] public required Guid Transfer { get; init; }
    [Id(2)] public required int Index { get; init; }
    [Id(3)] public required int Count { get; init; }
    [Id(4)] public required long Offset { get; init; }
    [Id(5)] public required long TotalLength { get; init; }
    [Id(6)] public required byte[] Digest { get; init; }
    [Id(7)] public required byte[] Data { get; init; }
}

