using System.Diagnostics;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Compute;
using Distributed.Grains.Shards.Protocol;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The distributed engine's workers: <see cref="IImageWorkers"/> over a job's shard grains. Each request fans out to
/// the shards concurrently (start, then wait in short calls), tensors over the limit are pushed and pulled as chunks,
/// and results come back in shard order, so Compute's <see cref="Trainer"/> reduces exactly as in one process.
/// </summary>
internal sealed class GrainImageWorkers : IImageWorkers
{
    private readonly string _job;
    private readonly TrainingSpec _spec;
    private readonly MessageLimits _limits;
    private readonly JobTracing _tracing;
    private readonly IImageShardGrain[] _shards;
    private readonly DistributedGrainOptions _options;
    private readonly ILogger _logger;

    public GrainImageWorkers(IGrainFactory grains, string job, TrainingSpec spec, IReadOnlyList<IReadOnlyList<int>> shards, int inputPlanes, MessageLimits limits, JobTracing tracing,
        ILogger logger, DistributedGrainOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shards);
        _options = options ?? new DistributedGrainOptions();
        _job = job;
        _spec = spec;
        _limits = limits;
        _tracing = tracing;
        _logger = logger;
        Shards = shards;
        InputPlanes = inputPlanes;
        _shards = [.. Enumerable.Range(0, shards.Count).Select(s => grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, s)))];
    }

    public IReadOnlyList<IReadOnlyList<int>> Shards { get; }

    public int InputPlanes { get; }

    /// <summary>
    /// Fans <paramref name="request"/> out to the shards it is about (its handler writes each shard's command), then
    /// gathers the replies into Compute results in shard order. Shard calls hang under the span the trainer's phase
    /// opened (<see cref="JobTracing.Current"/>), so they join the job's trace.
    /// </summary>
    public async Task<IReadOnlyList<TResult>> RunAsync<TResult>(IShardRequest<TResult> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        IShardRequestCodec<TResult> codec = ShardProtocol.ForRequest(request);
        MessageHeader header = codec.HeaderFor(request, _job);
        int[] targets = request.Images is { } images ? [.. AllShards.Where(s => images.Any(Shards[s].Contains))] : AllShards;
        // Orleans propagates the caller's Activity.Current into the grain call; this async method's own copy of it.
        Activity.Current = _tracing.Current;
        ShardReply[] replies = await FanOutAsync(targets, header,
            (shard, budget) => codec.ToCommandAsync(request, new CommandWriter(header, bytes => PayloadTransfer.SendAsync(_shards[shard], header, bytes, _limits, budget, cancellationToken))),
            cancellationToken);

        long gatherStart = Stopwatch.GetTimestamp();
        using Activity? gather = codec.GatherOperation is { } operation ? DistributedTelemetry.StartSpan(operation, header) : null;
        var results = new TResult[replies.Length];
        long bytes = 0;
        for (int i = 0; i < replies.Length; i++)
        {
            IImageShardGrain shard = _shards[replies[i].Shard];
            var reader = new ReplyReader(_spec, payload => PayloadTransfer.FetchAsync(shard, header, payload, cancellationToken));
            results[i] = await codec.FromReplyAsync(replies[i], reader);
            bytes += reader.Bytes;
        }
        if (gather is not null)
        {
            gather.SetTag(TelemetryNames.Tags.Shards, replies.Length);
            gather.SetTag(TelemetryNames.Tags.Bytes, bytes);
            DistributedTelemetry.ReduceSeconds.Record(Stopwatch.GetElapsedTime(gatherStart).TotalSeconds, new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, _job));
        }
        return results;
    }

    private int[] AllShards => [.. Enumerable.Range(0, _shards.Length)];

    /// <summary>
    /// Starts one command per target shard (concurrently: one slow shard bounds the fan-out, not their sum), then
    /// waits on each in short calls; replies come back in the order of <paramref name="targets"/> (shard order).
    /// Cancellation abandons the shards' work too.
    /// </summary>
    private async Task<ShardReply[]> FanOutAsync(int[] targets, MessageHeader header, Func<int, InlineBudget, Task<ShardCommand>> build, CancellationToken cancellationToken)
    {
        Task<ShardReply>[] calls = [.. targets.Select(s => RunOnShardAsync(s, header, build, cancellationToken))];
        try
        {
            return await Task.WhenAll(calls);
        }
        catch (OperationCanceledException)
        {
            await Task.WhenAll(targets.Select(s => _shards[s].CancelAsync(header)));
            throw;
        }
    }

    /// <summary>
    /// One command on one shard. When the shard's silo is unreachable or the shard answers from a new activation (its
    /// silo died and it came back elsewhere, reloading its stored images), the command is built and started again —
    /// for up to <see cref="DistributedGrainOptions.FailoverPatience"/> of consecutive failures.
    /// </summary>
    private async Task<ShardReply> RunOnShardAsync(int shard, MessageHeader header, Func<int, InlineBudget, Task<ShardCommand>> build, CancellationToken cancellationToken)
    {
        IImageShardGrain grain = _shards[shard];
        long failingSince = 0;
        string command = "command";
        while (true)
        {
            string reason;
            try
            {
                ShardCommand message = await build(shard, new InlineBudget(_limits));
                command = message.GetType().Name;
                Guid ticket = await grain.StartAsync(message);
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    ShardWaitResult wait = await grain.WaitAsync(header, ticket);
                    if (wait.Lost) break;
                    failingSince = 0;
                    if (!wait.Done) continue;
                    return wait.Reply
                        ?? throw new InvalidDataException($"shard {shard} of job {_job} answered nothing to {command}.");
                }
                reason = "its activation lost the work";
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (failingSince != 0 && Stopwatch.GetElapsedTime(failingSince) > _options.FailoverPatience)
                    throw new TimeoutException($"shard {shard} of job {_job} stayed unreachable for {_options.FailoverPatience.TotalSeconds:F0} s: {e.Message}", e);
                reason = e.Message;
            }
            if (failingSince == 0) failingSince = Stopwatch.GetTimestamp();
            _tracing.Current?.AddEvent(new ActivityEvent("shard failover", tags: new ActivityTagsCollection { [TelemetryNames.Tags.Shard] = shard }));
            JobLog.ShardFailover(_logger, _job, shard, command, reason);
            await Task.Delay(_options.FailoverRetryDelay, cancellationToken);
        }
    }
}
