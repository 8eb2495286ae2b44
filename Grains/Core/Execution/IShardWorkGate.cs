using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Execution;

/// <summary>
/// Entered by a shard before each piece of numeric work. The silo's default lets everything through; tests register
/// one that holds a chosen job's work at an explicit phase barrier (no sleeps) to observe a job mid-epoch.
/// </summary>
public interface IShardWorkGate
{
    ValueTask EnterAsync(MessageHeader header, int shard, string operation, CancellationToken cancellationToken);
}

internal sealed class OpenShardWorkGate : IShardWorkGate
{
    public ValueTask EnterAsync(MessageHeader header, int shard, string operation, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
