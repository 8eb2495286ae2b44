using System.Collections.Concurrent;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Execution;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Grains.Tests.Support;

/// <summary>
/// An explicit phase barrier for shard work: a test holds a job's inference at (layer, epoch); the first shard to get
/// there signals <see cref="Hold.Reached"/> and every shard waits until <see cref="Hold.Release"/>.
/// </summary>
public sealed class TestShardGate : IShardWorkGate
{
    public static TestShardGate Instance { get; } = new();

    private readonly ConcurrentDictionary<(string Job, int Layer, int Epoch), Hold> _holds = new();

    public Hold HoldInference(string job, int layer, int epoch) => _holds.GetOrAdd((job, layer, epoch), _ => new Hold());

    public async ValueTask EnterAsync(MessageHeader header, int shard, string operation, CancellationToken cancellationToken)
    {
        if (operation != TelemetryNames.Spans.InferShard || !_holds.TryGetValue((header.Job, header.Layer, header.Epoch), out Hold? hold)) return;
        hold.Arrive();
        await hold.Released.WaitAsync(cancellationToken);
    }

    public sealed class Hold
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;
        internal Task Released => _released.Task;

        internal void Arrive() => _reached.TrySetResult();

        public void Release() => _released.TrySetResult();
    }
}
