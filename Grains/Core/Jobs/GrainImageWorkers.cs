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
        Func<int, InlineBudget, Task<ShardCommand>> build =
            (shard, budget) => codec.ToCommandAsync(request, new CommandWriter(header, bytes => PayloadTransfer.SendAsync(_shards[shard], header, bytes, _limits, budget, cancellationToken)));
        ShardReply[] replies = await Task.WhenAll(targets.Select(s => RunOnShardAsync(s, header, build, cancellationToken)));

        long gatherStart = Stopwatch.GetTimestamp();
        using Activity? gather = codec.GatherOperation is { } operation ? DistributedTelemetry.StartSpan(operation, header) : null;
        var results = new TResult[replies.Length];
        long bytes = 0;
        for (int i = 0; i < replies.Length; i++)
        {
            (results[i], long fetched) = await GatherAsync(codec, targets[i], replies[i], header, build, cancellationToken);
            bytes += fetched;
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
    /// The Compute result of one shard's reply, its payloads pulled from the shard. Pulling is part of the exchange:
    /// when the shard's silo dies after it answered (its outbox gone with it) or the pull is cut off, the command is run
    /// again on the shard's new activation and its new reply pulled, within the same failover patience. Returns the
    /// result and the bytes pulled.
    /// </summary>
    private async Task<(TResult Result, long Bytes)> GatherAsync<TResult>(IShardRequestCodec<TResult> codec, int shard, ShardReply reply, MessageHeader header,
        Func<int, InlineBudget, Task<ShardCommand>> build, CancellationToken cancellationToken)
    {
        long failingSince = 0;
        while (true)
        {
            var reader = new ReplyReader(_spec, payload => PayloadTransfer.FetchAsync(_shards[shard], header, payload, cancellationToken));
            try
            {
                return (await codec.FromReplyAsync(reply, reader), reader.Bytes);
            }
            catch (Exception e) when ((TransientFaults.IsTransient(e) || e is PayloadMissingException) && !cancellationToken.IsCancellationRequested)
            {
                if (failingSince == 0) failingSince = Stopwatch.GetTimestamp();
                else if (Stopwatch.GetElapsedTime(failingSince) > _options.FailoverPatience)
                    throw new TimeoutException($"shard {shard} of job {_job}: its reply could not be pulled for {_options.FailoverPatience.TotalSeconds:F0} s: {e.Message}", e);
                JobLog.ShardFailover(_logger, _job, shard, "pull of its reply", e.Message);
                reply = await RunOnShardAsync(shard, header, build, cancellationToken);
            }
        }
    }

    /// <summary>
    /// One command on one shard (the fan-out runs one per target shard concurrently: one slow shard bounds it, not
    /// their sum). When the shard's silo is unreachable or the shard says the work is lost (it answers from a new
    /// activation, reloading its stored images; or the work was superseded or cancelled by another sender), the command
    /// is built, its payloads pushed, and started again — for up to <see cref="DistributedGrainOptions.FailoverPatience"/>
    /// of consecutive failures. Cancellation abandons this command's work on the shard, and only this command's.
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
                    if (cancellationToken.IsCancellationRequested)
                    {
                        await AbandonAsync(grain, header, ticket);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
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

    /// <summary>Best effort: a shard that cannot be told keeps working on an answer nobody collects, then idles.</summary>
    private static async Task AbandonAsync(IImageShardGrain grain, MessageHeader header, Guid ticket)
    {
        try
        {
            await grain.CancelAsync(header, ticket).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (TransientFaults.IsTransient(e))
        {
            // Its silo is gone: so is the work.
        }
    }
}
