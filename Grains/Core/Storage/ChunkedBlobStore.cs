using Distributed.Grains.Abstractions.Messaging;
using Orleans.Storage;
using Distributed.Grains.Messaging.Payloads;

namespace Distributed.Grains.Storage;

/// <summary>
/// Writes a blob of any size to a named grain storage as a manifest plus blocks well under one message's payload.
/// Memory storage ships each record to a storage grain in one message, so a record over the message limit would tear
/// the connection down; Redis is not limited, but the same layout serves both. The manifest is written last and read
/// first, so a reader never sees a half-written blob as complete, and the digest checks the reassembly.
/// </summary>
internal sealed class ChunkedBlobStore(IGrainStorage storage, string stateName, MessageLimits limits)
{
    private const string BlobGrainType = "distributed-blob";

    private readonly Dictionary<string, string?> _etags = new(StringComparer.Ordinal);

    // Memory storage writes a record as base64 JSON (4/3 larger) and ships that to its storage grain larger still:
    // measured with a 256 KiB limit, blocks of half a payload overflowed the message, a third did not. A quarter.
    private readonly int _blockBytes = limits.PayloadBytes / 4;

    /// <summary>Writes <paramref name="blob"/> under <paramref name="key"/>; blocks of a longer blob written there before are deleted after.</summary>
    public async Task WriteAsync(string key, byte[] blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        BlobManifest? previous = await ReadRecordAsync<BlobManifest>(key, cancellationToken);
        Payload reference = PayloadChunker.Describe(Guid.NewGuid(), blob, _blockBytes);
        for (int i = 0; i < reference.Chunks; i++)
        {
            PayloadChunk chunk = PayloadChunker.Chunk(MessageHeader.ForJob(JobOf(key)), reference, blob, _blockBytes, i);
            await WriteRecordAsync(BlockKey(key, i), new BlobBlock { Data = chunk.Data }, cancellationToken);
        }
        await WriteRecordAsync(key, new BlobManifest { Length = reference.Length, Chunks = reference.Chunks, Digest = reference.Digest }, cancellationToken);
        // The new manifest no longer reaches them (a job record shrinks when its checkpoint is dropped at the end).
        for (int i = reference.Chunks; i < (previous?.Chunks ?? 0); i++) await ClearRecordAsync<BlobBlock>(BlockKey(key, i), cancellationToken);
    }

    /// <summary>The blob last written under <paramref name="key"/>, or null if there is none.</summary>
    public async Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobManifest? manifest = await ReadRecordAsync<BlobManifest>(key, cancellationToken);
        if (manifest is null) return null;
        var assembler = new ChunkAssembler(Guid.Empty, manifest.Chunks, manifest.Length, manifest.Digest);
        long offset = 0;
        for (int i = 0; i < manifest.Chunks; i++)
        {
            BlobBlock block = await ReadRecordAsync<BlobBlock>(BlockKey(key, i), cancellationToken)
                ?? throw new InvalidDataException($"stored blob '{key}' ({stateName}): block {i} of {manifest.Chunks} is missing.");
            assembler.Add(new PayloadChunk
            {
                Header = MessageHeader.ForJob(JobOf(key)),
                Transfer = Guid.Empty,
                Index = i,
                Count = manifest.Chunks,
                Offset = offset,
                TotalLength = manifest.Length,
                Digest = manifest.Digest,
                Data = block.Data,
            });
            offset += block.Data.LongLength;
        }
        return assembler.Complete();
    }

    /// <summary>Deletes the blob under <paramref name="key"/>, manifest first so that no reader sees it half gone; nothing if there is none.</summary>
    public async Task ClearAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobManifest? manifest = await ReadRecordAsync<BlobManifest>(key, cancellationToken);
        if (manifest is null) return;
        await ClearRecordAsync<BlobManifest>(key, cancellationToken);
        for (int i = 0; i < manifest.Chunks; i++) await ClearRecordAsync<BlobBlock>(BlockKey(key, i), cancellationToken);
    }

    private async Task ClearRecordAsync<T>(string key, CancellationToken cancellationToken) where T : class
    {
        var state = new GrainState<T>();
        await storage.ReadStateAsync(stateName, Id(key), state, cancellationToken);
        if (state.RecordExists) await storage.ClearStateAsync(stateName, Id(key), state, cancellationToken);
        _etags.Remove(key);
    }

    private async Task WriteRecordAsync<T>(string key, T value, CancellationToken cancellationToken)
    {
        _etags.TryGetValue(key, out string? etag);
        var state = new GrainState<T>(value, etag);
        if (etag is null)
        {
            // An activation that never read this record still overwrites it: fetch the current ETag first.
            var current = new GrainState<T>();
            await storage.ReadStateAsync(stateName, Id(key), current, cancellationToken);
            state.ETag = current.ETag;
        }
        await storage.WriteStateAsync(stateName, Id(key), state, cancellationToken);
        _etags[key] = state.ETag;
    }

    private async Task<T?> ReadRecordAsync<T>(string key, CancellationToken cancellationToken) where T : class
    {
        var state = new GrainState<T>();
        await storage.ReadStateAsync(stateName, Id(key), state, cancellationToken);
        _etags[key] = state.ETag;
        return state.RecordExists ? state.State : null;
    }

    private static GrainId Id(string key) => GrainId.Create(BlobGrainType, key);

    private static string BlockKey(string key, int index) => $"{key}#{index}";

    private static string JobOf(string key) => key.Split('/')[0];
}

[GenerateSerializer, Alias("distributed.blob-manifest")]
internal sealed class BlobManifest
{
    [Id(0)] public long Length { get; set; }
    [Id(1)] public int Chunks { get; set; }
    [Id(2)] public byte[] Digest { get; set; } = [];
}

[GenerateSerializer, Alias("distributed.blob-block")]
internal sealed class BlobBlock
{
    [Id(0)] public byte[] Data { get; set; } = [];
}
