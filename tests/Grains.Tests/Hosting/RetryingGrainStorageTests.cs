using Distributed.Grains.Hosting.Storage;
using Orleans.Storage;
using StackExchange.Redis;

namespace Distributed.Grains.Tests.Hosting;

public sealed class RetryingGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("distributed-blob", "job/1");

    /// <summary>What Orleans' Redis storage throws on a write while Redis is down: the cause flattened into kilobytes.</summary>
    private const string RedisWriteFailure =
        "Failed to write grain state for jobs grain with ID: distributed-blob/job with redis key distributed/state/distributed-blob/job. "
        + "StackExchange.Redis.RedisConnectionException: No connection is active/available to service this operation: EVAL; "
        + "It was not possible to connect to the redis server(s). ConnectTimeout, inst: 0, qu: 0, qs: 0, aw: False, bw: SpinningDown, "
        + "rs: ReadAsync, ws: Idle, in: 0, last-in: 0, cur-in: 0, sync-ops: 0, async-ops: 12, serverEndpoint: 127.0.0.1:6390, mc: 1/1/0, "
        + "mgr: 10 of 10 available, clientName: host(SE.Redis-v2.13.17.3246), IOCP: (Busy=0,Free=1000,Min=1,Max=1000), v: 2.13.17.3246";

    [Fact]
    public async Task Write_StoreDownThenBack_SucceedsAfterRetries()
    {
        var store = new FlakyStorage(failures: 3, () => new RedisConnectionException(ConnectionFailureType.SocketFailure, "socket closed"));
        var storage = new RetryingGrainStorage("checkpoints", store, TimeSpan.FromSeconds(30));

        await storage.WriteStateAsync("jobs", Grain, new GrainState<int>(7));

        Assert.Equal(4, store.Attempts);
        Assert.Equal(7, store.Written);
    }

    [Fact]
    public async Task Write_StoreDownPastTheLimit_FailsWithOneLineReason()
    {
        var store = new FlakyStorage(failures: int.MaxValue, () => new StorageUnreachableForTest(RedisWriteFailure));
        var storage = new RetryingGrainStorage("checkpoints", store, TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.WriteStateAsync("jobs", Grain, new GrainState<int>(7)));

        Assert.True(store.Attempts > 1, $"{store.Attempts} attempt(s)");
        Assert.StartsWith("storage 'checkpoints' unreachable for ", e.Message);
        Assert.EndsWith(": No connection is active/available to service this operation: EVAL", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Write_EtagConflict_FailsAtOnce()
    {
        var store = new FlakyStorage(failures: int.MaxValue, () => new InconsistentStateException("version conflict"));
        var storage = new RetryingGrainStorage("checkpoints", store, TimeSpan.FromSeconds(30));

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("jobs", Grain, new GrainState<int>(7)));

        Assert.Equal(1, store.Attempts);
    }

    [Fact]
    public async Task Read_ErrorTheStoreRaised_FailsAtOnce()
    {
        var store = new FlakyStorage(failures: int.MaxValue, () => new InvalidDataException("cannot deserialize"));
        var storage = new RetryingGrainStorage("images", store, TimeSpan.FromSeconds(30));

        await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("shards", Grain, new GrainState<int>()));

        Assert.Equal(1, store.Attempts);
    }

    /// <summary>Stands in for Orleans' internal RedisStorageException, which carries the cause only in its message.</summary>
    private sealed class StorageUnreachableForTest(string message) : Exception(message, new RedisConnectionException(ConnectionFailureType.UnableToConnect, message));

    private sealed class FlakyStorage(int failures, Func<Exception> failure) : IGrainStorage
    {
        public int Attempts { get; private set; }

        public int Written { get; private set; }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Attempt(() => { });

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            Attempt(() => Written = grainState.State is int value ? value : -1);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Attempt(() => { });

        private Task Attempt(Action success)
        {
            if (Attempts++ < failures) return Task.FromException(failure());
            success();
            return Task.CompletedTask;
        }
    }
}
