namespace Distributed.Compute.Training;

/// <summary>
/// One piece of work a shard does on its own images, typed by what each shard returns. The request names its
/// <see cref="ImageShard"/> method in <see cref="RunOn"/>, so an engine runs any request without knowing which it is:
/// <see cref="LocalImageWorkers"/> calls it in this process, the Orleans engine ships the request to the shard grains
/// (one handler per request type converts it to and from its wire form) and calls it there.
/// </summary>
public interface IShardRequest<out TResult>
{
    /// <summary>Global image indices the work is about: only shards holding one of them run it. Null: every shard.</summary>
    IReadOnlyList<int>? Images { get; }

    /// <summary>The work on one shard.</summary>
    TResult RunOn(ImageShard shard, CancellationToken cancellationToken);
}
