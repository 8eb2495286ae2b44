using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Storage;
using Orleans.Storage;

namespace Distributed.Grains.Tests.Storage;

public sealed class ChunkedBlobStoreTests
{
    private static readonly MessageLimits Limits = new(MessageLimits.MinimumMaxMessageBytes);

    [Fact]
    public async Task WriteAsync_ShorterBlobOverALongerOne_ReadsBackAndLeavesNoStaleBlocks()
    {
        var storage = new RecordStorage();
        var store = new ChunkedBlobStore(storage, "blobs", Limits);
        byte[] longer = Bytes(10 * Limits.PayloadBytes, seed: 1), shorter = Bytes(100, seed: 2);

        await store.WriteAsync("job/0", longer);
        int written = storage.Records.Count;
        await store.WriteAsync("job/0", shorter);

        Assert.True(written > 2, $"a blob of 10 payloads took {written} records; the test needs several blocks.");
        Assert.Equal(2, storage.Records.Count);   // the manifest and one block
        Assert.Equal(shorter, await new ChunkedBlobStore(storage, "blobs", Limits).ReadAsync("job/0"));
    }

    [Fact]
    public async Task ClearAsync_StoredBlob_DeletesEveryRecordAndReadsAsNone()
    {
        var storage = new RecordStorage();
        var store = new ChunkedBlobStore(storage, "blobs", Limits);
        await store.WriteAsync("job/1", Bytes(5 * Limits.PayloadBytes, seed: 3));

        await store.ClearAsync("job/1");

        Assert.Empty(storage.Records);
        Assert.Null(await new ChunkedBlobStore(storage, "blobs", Limits).ReadAsync("job/1"));
        await store.ClearAsync("job/1");   // nothing there: no error
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Grain storage as a dictionary of records, with ETags as Orleans' storages keep them.</summary>
    private sealed class RecordStorage : IGrainStorage
    {
        private int _version;

        public Dictionary<(string State, GrainId Grain), (object? Value, string ETag)> Records { get; } = [];

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Records.TryGetValue((stateName, grainId), out var record))
                (grainState.State, grainState.ETag, grainState.RecordExists) = ((T)record.Value!, record.ETag, true);
            else
                (grainState.ETag, grainState.RecordExists) = (null, false);
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Records.TryGetValue((stateName, grainId), out var record) && record.ETag != grainState.ETag)
                throw new InconsistentStateException($"ETag {grainState.ETag} is stale; stored {record.ETag}.");
            string etag = $"{++_version}";
            Records[(stateName, grainId)] = (grainState.State, etag);
            (grainState.ETag, grainState.RecordExists) = (etag, true);
            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Records.Remove((stateName, grainId));
            (grainState.ETag, grainState.RecordExists) = (null, false);
            return Task.CompletedTask;
        }
    }
}
