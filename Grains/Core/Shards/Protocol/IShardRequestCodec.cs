using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>The coordinator's side of one command type: a Compute request out, a Compute result back.</summary>
internal interface IShardRequestCodec<TResult>
{
    /// <summary>Where the request's messages belong (job, layer, epoch, filter version).</summary>
    MessageHeader HeaderFor(IShardRequest<TResult> request, string job);

    /// <summary>
    /// The span the coordinator opens while it gathers the shards' replies into Compute results (fetching payloads
    /// over the limit), or null where gathering is not worth a span.
    /// </summary>
    string? GatherOperation { get; }

    /// <summary>The command one shard is sent; tensors go through the writer (inline, or chunked ahead).</summary>
    Task<ShardCommand> ToCommandAsync(IShardRequest<TResult> request, CommandWriter writer);

    /// <summary>The Compute result a shard's reply stands for; payloads are fetched through the reader.</summary>
    Task<TResult> FromReplyAsync(ShardReply reply, ReplyReader reader);
}
