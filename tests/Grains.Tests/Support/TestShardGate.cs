using System.Collections.Concurrent;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Execution;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Grains.Tests.Support;

/// <summary>
/// An explicit phase barrier for shard work: a test holds a job's shard operation (inference, an A·d product, …) at
/// (layer, epoch), optionally after letting the first <c>pass</c> arrivals through (3 shards: one round each); the
/// first shard held signals <see cref="Hold.Reached"/> and every later one waits until <see cref="Hold.Release"/>.
/// </summary>
public sealed class TestShardGate : IShardWorkGate
{
    public static TestShardGate Instance { get; } = new();

    private readonly ConcurrentDictionary<(string Job, string Operation, int Layer, int Epoch), Hold> _holds = new();

    public Hold HoldInference(string job, int layer, int epoch) => HoldAt(job, TelemetryNames.Spans.InferShard, layer, epoch, pass: 0);

    public Hold HoldAt(string job, string operation, int layer, int epoch, int pass) =>
        _holds.GetOrAdd((job, operation, layer, epoch), _ => new Hold(pass));

    public async ValueTask EnterAsync(MessageHeader header, int shard, string operation, CancellationToken cancellationToken)
    {
        if (!_holds.TryGetValue((header.Job, operation, header.Layer, header.Epoch), out Hold? hold) || !hold.Arrive()) return;
        await hold.Released.WaitAsync(cancellationToken);
    }

    public sealed class Hold(int pass)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrivals;

        public Task Reached => _reached.Task;
        internal Task Released => _released.Task;

        /// <summary>Counts an arrival; true when it must wait (past the first <c>pass</c> and not yet released).</summary>
        internal bool Arrive()
        {
            if (Interlocked.Increment(ref _arrivals) <= pass || _released.Task.IsCompleted) return false;
            _reached.TrySetResult();
            return true;
        }

        public void Release() => _released.TrySetResult();
    }
}
