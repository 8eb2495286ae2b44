using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>The shard's side of one command type: what the grain needs to run a command it was sent.</summary>
internal interface IShardCommandHandler
{
    Type CommandType { get; }

    /// <summary>The Compute request the command carries (one handler per request type too).</summary>
    Type RequestType { get; }

    /// <summary>The span (and work-gate) name of the command's work on a shard.</summary>
    string Operation { get; }

    /// <summary>Decodes the command into its Compute request, on the grain's turn (the staging area is the grain's).</summary>
    IPreparedShardWork Prepare(ShardCommand command, CommandReader reader);
}

/// <summary>A decoded command bound to its request: run it on the compute scheduler, then write its reply.</summary>
internal interface IPreparedShardWork
{
    void Run(ImageShard shard, CancellationToken cancellationToken);

    /// <summary>The wire reply of what <see cref="Run"/> produced.</summary>
    ShardReply Reply(ReplyWriter writer);
}
