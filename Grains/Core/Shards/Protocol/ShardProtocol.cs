using System.Collections.Frozen;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>
/// The shard command handlers of this assembly, found once by reflection (every concrete
/// <see cref="ShardCommandHandler{TRequest, TResult, TCommand, TReply}"/>), so a new command needs no registration:
/// the shard grain looks its command's handler up by the command's type, the coordinator by the request's type.
/// A request or command with two handlers stops the process at start-up rather than guessing.
/// </summary>
internal static class ShardProtocol
{
    private static readonly FrozenDictionary<Type, IShardCommandHandler> ByCommand;
    private static readonly FrozenDictionary<Type, object> ByRequest;

    static ShardProtocol()
    {
        var byCommand = new Dictionary<Type, IShardCommandHandler>();
        var byRequest = new Dictionary<Type, object>();
        foreach (Type type in typeof(ShardProtocol).Assembly.GetTypes().Where(t => t is { IsAbstract: false, IsClass: true } && IsHandler(t)))
        {
            var handler = (IShardCommandHandler)Activator.CreateInstance(type, nonPublic: true)!;
            Type request = handler.RequestType;
            if (!byCommand.TryAdd(handler.CommandType, handler))
                throw new InvalidOperationException($"{handler.CommandType.Name} has two handlers: {byCommand[handler.CommandType].GetType().Name} and {type.Name}.");
            if (!byRequest.TryAdd(request, handler))
                throw new InvalidOperationException($"{request.Name} has two handlers: {byRequest[request].GetType().Name} and {type.Name}.");
        }
        ByCommand = byCommand.ToFrozenDictionary();
        ByRequest = byRequest.ToFrozenDictionary();
    }

    /// <summary>The command types that have a handler.</summary>
    public static IEnumerable<Type> Commands => ByCommand.Keys;

    /// <summary>The shard-side handler of <paramref name="command"/>.</summary>
    public static IShardCommandHandler ForCommand(ShardCommand command) =>
        ByCommand.GetValueOrDefault(command.GetType())
        ?? throw new ArgumentException($"no handler for shard command {command.GetType().Name}.", nameof(command));

    /// <summary>The coordinator-side codec of <paramref name="request"/>.</summary>
    public static IShardRequestCodec<TResult> ForRequest<TResult>(IShardRequest<TResult> request) =>
        ByRequest.GetValueOrDefault(request.GetType()) as IShardRequestCodec<TResult>
        ?? throw new ArgumentException($"no shard command handles {request.GetType().Name}.", nameof(request));

    private static bool IsHandler(Type type)
    {
        for (Type? t = type.BaseType; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ShardCommandHandler<,,,>)) return true;
        return false;
    }
}
