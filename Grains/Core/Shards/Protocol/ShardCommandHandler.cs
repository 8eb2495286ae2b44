using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>
/// Everything one shard command needs, in one class: its span name and its four conversions between the Compute
/// request/result (<typeparamref name="TRequest"/>, <typeparamref name="TResult"/>) and the wire command/reply
/// (<typeparamref name="TCommand"/>, <typeparamref name="TReply"/>). The work itself is the request's
/// <see cref="IShardRequest{TResult}.RunOn"/>. Handlers are found by <see cref="ShardProtocol"/>; adding a shard
/// command is a Compute request and method, a wire contract, and one of these.
/// </summary>
internal abstract class ShardCommandHandler<TRequest, TResult, TCommand, TReply> : IShardCommandHandler, IShardRequestCodec<TResult>
    where TRequest : IShardRequest<TResult>
    where TCommand : ShardCommand, IShardCommand<TReply>
    where TReply : ShardReply
{
    public Type CommandType => typeof(TCommand);

    public Type RequestType => typeof(TRequest);

    public abstract string Operation { get; }

    public virtual string? GatherOperation => null;

    /// <summary>Coordinator: the header the request's messages carry.</summary>
    protected abstract MessageHeader HeaderFor(TRequest request, string job);

    /// <summary>Coordinator: the wire command for one shard.</summary>
    protected abstract Task<TCommand> ToCommandAsync(TRequest request, CommandWriter writer);

    /// <summary>Coordinator: the Compute result a reply stands for.</summary>
    protected abstract Task<TResult> FromReplyAsync(TReply reply, ReplyReader reader);

    /// <summary>Shard: the Compute request a command stands for.</summary>
    protected abstract TRequest ToRequest(TCommand command, CommandReader reader);

    /// <summary>Shard: the wire reply of a Compute result (the common <see cref="ShardReply"/> fields are stamped by the grain).</summary>
    protected abstract TReply ToReply(TResult result, ReplyWriter writer);

    MessageHeader IShardRequestCodec<TResult>.HeaderFor(IShardRequest<TResult> request, string job) => HeaderFor((TRequest)request, job);

    async Task<ShardCommand> IShardRequestCodec<TResult>.ToCommandAsync(IShardRequest<TResult> request, CommandWriter writer) =>
        await ToCommandAsync((TRequest)request, writer);

    Task<TResult> IShardRequestCodec<TResult>.FromReplyAsync(ShardReply reply, ReplyReader reader) => reply is TReply typed
        ? FromReplyAsync(typed, reader)
        : throw new InvalidDataException($"shard {reply.Shard} answered {reply.GetType().Name} to {typeof(TCommand).Name}; expected {typeof(TReply).Name}.");

    IPreparedShardWork IShardCommandHandler.Prepare(ShardCommand command, CommandReader reader) =>
        new Prepared(this, ToRequest((TCommand)command, reader));

    private sealed class Prepared(ShardCommandHandler<TRequest, TResult, TCommand, TReply> handler, TRequest request) : IPreparedShardWork
    {
        private TResult? _result;
        private bool _done;

        public void Run(ImageShard shard, CancellationToken cancellationToken)
        {
            _result = request.RunOn(shard, cancellationToken);
            _done = true;
        }

        public ShardReply Reply(ReplyWriter writer) => _done
            ? handler.ToReply(_result!, writer)
            : throw new InvalidOperationException($"{typeof(TCommand).Name} has not run.");
    }
}
