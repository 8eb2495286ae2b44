using System.Diagnostics;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Telemetry;
using Distributed.Compute;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The distributed engine's workers: <see cref="IImageWorkers"/> over a job's shard grains. Each request fans out to
/// the shards concurrently (start, then wait in short calls), tensors over the limit are pushed and pulled as chunks,
/// and results come back in shard order, so Compute's <see cref="Trainer"/> reduces exactly as in one process.
/// </summary>
internal sealed class GrainImageWorkers : IImageWorkers
{
    private readonly IGrainFactory _grains;
    private readonly string _job;
    private readonly TrainingSpec _spec;
    private readonly MessageLimits _limits;
    private readonly JobTracing _tracing;
    private readonly IImageShardGrain[] _shards;
    private readonly DistributedGrainOptions _options;

    public GrainImageWorkers(IGrainFactory grains, string job, TrainingSpec spec, IReadOnlyList<IReadOnlyList<int>> shards, int inputPlanes, MessageLimits limits, JobTracing tracing,
        DistributedGrainOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shards);
        _options = options ?? new DistributedGrainOptions();
        _grains = grains;
        _job = job;
        _spec = spec;
        _limits = limits;
        _tracing = tracing;
        Shards = shards;
        InputPlanes = inputPlanes;
        _shards = [.. Enumerable.Range(0, shards.Count).Select(s => grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, s)))];
    }

    public IReadOnlyList<IReadOnlyList<int>> Shards { get; }

    /// <summary>Known once layer 1's inputs are built (the shards decode the images).</summary>
    public int InputPlanes { get; private set; }

    public async Task<IReadOnlyList<LayerInputSummary>> PrepareLayerAsync(PrepareLayerRequest request, CancellationToken cancellationToken)
    {
        _tracing.BeginLayer(request.Layer);
        Activity.Current = _tracing.Current;
        var header = new MessageHeader(_job, request.Layer);
        LayerInputReply[] replies = await FanOutAsync<LayerInputReply>(AllShards, header, async (shard, budget) => new PrepareLayerCommand
        {
            Header = header,
            Frozen = await FrozenAsync(shard, header, request.Frozen, budget, cancellationToken),
        }, cancellationToken);
        int[] planes = [.. replies.Where(r => r.Images > 0).Select(r => r.Planes).Distinct().Order()];
        // Each shard checks its own images; only here do the shards' answers meet.
        if (planes.Length > 1)
            throw new SpecException($"layer {request.Layer + 1}: the images have {string.Join(" and ", planes)} planes on different shards; one job needs one kind: convert all to grey or all to RGB.", "images");
        if (request.Layer == 0) InputPlanes = planes.FirstOrDefault();
        return [.. replies.Select(r => new LayerInputSummary(r.Shard, r.Images, r.SumSquares, r.Values, r.Planes))];
    }

    public async Task<IReadOnlyList<ShardPartial>> InferAsync(InferRequest request, CancellationToken cancellationToken)
    {
        _tracing.BeginEpoch(request.Layer, request.Epoch, request.FilterVersion);
        Activity.Current = _tracing.Current;
        var header = new MessageHeader(_job, request.Layer, request.Epoch, request.FilterVersion);
        int[] targets = request.Images is null ? AllShards : [.. AllShards.Where(s => request.Images.Any(Shards[s].Contains))];
        int[]? images = request.Images?.ToArray();
        InferReply[] replies = await FanOutAsync<InferReply>(targets, header, async (shard, budget) => new InferCommand
        {
            Header = header,
            Frozen = await FrozenAsync(shard, header, request.Frozen, budget, cancellationToken),
            Filters = await PushAsync(shard, header, request.Filters, budget, cancellationToken),
            InputScale = request.InputScale,
            Images = images,
            Statistics = (int)request.Statistics,
            ColdStart = request.ColdStart,
        }, cancellationToken);

        long gatherStart = Stopwatch.GetTimestamp();
        using Activity? reduce = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Reduce, header);
        Connectivity? g = request.Statistics == FilterStatistics.None ? null : _spec.ConnectivityFor(request.Layer, request.Filters.Inputs);
        var partials = new ShardPartial[replies.Length];
        long bytes = 0;
        for (int i = 0; i < replies.Length; i++)
        {
            InferReply reply = replies[i];
            IImageShardGrain shard = _shards[reply.Shard];
            FilterBank? b = reply.B is null ? null : TensorWire.ToFilterBank(reply.B, await FetchAsync(shard, header, reply.B.Data, cancellationToken));
            FilterNormalEquations? statistics = null;
            if (reply.Gram is not null && b is not null && g is not null)
            {
                byte[] gram = await FetchAsync(shard, header, reply.Gram.Data, cancellationToken);
                bytes += gram.LongLength;
                statistics = TensorWire.ToNormalEquations(g, b, reply.Gram, gram, reply.SumSquaredInputs, reply.StatisticsImages);
            }
            bytes += (b?.Data.LongLength ?? 0) * sizeof(float);
            partials[i] = new ShardPartial(reply.Shard, reply.Totals.ToTotals(), statistics, statistics is null ? b : null);
        }
        reduce?.SetTag(TelemetryNames.Tags.Shards, replies.Length);
        reduce?.SetTag(TelemetryNames.Tags.Bytes, bytes);
        DistributedTelemetry.ReduceSeconds.Record(Stopwatch.GetElapsedTime(gatherStart).TotalSeconds, new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, _job));
        _tracing.FanOutEnded();
        return partials;
    }

    public async Task<IReadOnlyList<FilterProduct>> ApplyGramAsync(GramRequest request, CancellationToken cancellationToken)
    {
        _tracing.BeginEpoch(request.Layer, request.Epoch, request.FilterVersion);
        Activity.Current = _tracing.Current;
        var header = new MessageHeader(_job, request.Layer, request.Epoch, request.FilterVersion);
        GramReply[] replies = await FanOutAsync<GramReply>(AllShards, header, async (shard, budget) => new ApplyGramCommand
        {
            Header = header,
            Frozen = [],
            Direction = await PushAsync(shard, header, request.Direction, budget, cancellationToken),
        }, cancellationToken);
        var products = new FilterProduct[replies.Length];
        for (int i = 0; i < replies.Length; i++)
        {
            byte[] bytes = await FetchAsync(_shards[replies[i].Shard], header, replies[i].Product.Data, cancellationToken);
            products[i] = new FilterProduct(replies[i].Shard, TensorWire.ToFilterBank(replies[i].Product, bytes));
        }
        _tracing.FanOutEnded();
        return products;
    }

    public async Task<IReadOnlyList<ImageReport>> ReportAsync(ReportRequest request, CancellationToken cancellationToken)
    {
        Activity.Current = _tracing.Job;
        var header = new MessageHeader(_job);
        int[] images = [.. request.Images];
        int[] targets = [.. AllShards.Where(s => images.Any(Shards[s].Contains))];
        ReportReply[] replies = await FanOutAsync<ReportReply>(targets, header, async (shard, budget) => new ReportCommand
        {
            Header = header,
            Frozen = await FrozenAsync(shard, header, request.Frozen, budget, cancellationToken),
            Images = images,
            IncludeMaps = request.IncludeMaps,
        }, cancellationToken);
        var reports = new List<ImageReport>();
        foreach (ReportReply reply in replies)
            foreach (ImageReportMessage r in reply.Reports)
                reports.Add(await ResultWire.ToReportAsync(r, p => FetchAsync(_shards[reply.Shard], header, p, cancellationToken)));
        return [.. reports.OrderBy(r => r.Image)];
    }

    private int[] AllShards => [.. Enumerable.Range(0, _shards.Length)];

    /// <summary>
    /// Starts one command per target shard (concurrently: one slow shard bounds the fan-out, not their sum), then
    /// waits on each in short calls; replies come back in the order of <paramref name="targets"/> (shard order).
    /// Cancellation abandons the shards' work too.
    /// </summary>
    private async Task<TReply[]> FanOutAsync<TReply>(int[] targets, MessageHeader header, Func<int, InlineBudget, Task<ShardCommand>> build, CancellationToken cancellationToken)
        where TReply : ShardReply
    {
        Task<TReply>[] calls = [.. targets.Select(s => RunOnShardAsync<TReply>(s, header, build, cancellationToken))];
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
    private async Task<TReply> RunOnShardAsync<TReply>(int shard, MessageHeader header, Func<int, InlineBudget, Task<ShardCommand>> build, CancellationToken cancellationToken)
        where TReply : ShardReply
    {
        IImageShardGrain grain = _shards[shard];
        long failingSince = 0;
        while (true)
        {
            try
            {
                ShardCommand command = await build(shard, new InlineBudget(_limits));
                Guid ticket = await grain.StartAsync(command);
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    ShardWaitResult wait = await grain.WaitAsync(header, ticket);
                    if (wait.Lost) break;
                    failingSince = 0;
                    if (!wait.Done) continue;
                    return wait.Reply as TReply
                        ?? throw new InvalidDataException($"shard {shard} of job {_job} answered {wait.Reply?.GetType().Name ?? "nothing"} to {command.GetType().Name}.");
                }
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (failingSince != 0 && Stopwatch.GetElapsedTime(failingSince) > _options.FailoverPatience)
                    throw new TimeoutException($"shard {shard} of job {_job} stayed unreachable for {_options.FailoverPatience.TotalSeconds:F0} s: {e.Message}", e);
            }
            if (failingSince == 0) failingSince = Stopwatch.GetTimestamp();
            _tracing.Current?.AddEvent(new ActivityEvent("shard failover", tags: new ActivityTagsCollection { [TelemetryNames.Tags.Shard] = shard }));
            await Task.Delay(_options.FailoverRetryDelay, cancellationToken);
        }
    }

    private async Task<FrozenLayerMessage[]> FrozenAsync(int shard, MessageHeader header, IReadOnlyList<FrozenLayer> frozen, InlineBudget budget, CancellationToken cancellationToken)
    {
        var messages = new FrozenLayerMessage[frozen.Count];
        for (int i = 0; i < frozen.Count; i++)
            messages[i] = new FrozenLayerMessage { Filters = await PushAsync(shard, header, frozen[i].Filters, budget, cancellationToken), InputScale = frozen[i].InputScale };
        return messages;
    }

    private Task<TensorBlob> PushAsync(int shard, MessageHeader header, FilterBank filters, InlineBudget budget, CancellationToken cancellationToken) =>
        TensorWire.BlobAsync(TensorWire.ShapeOf(filters), filters.Data,
            bytes => PayloadTransfer.SendAsync(_shards[shard], header, bytes, _limits, budget, cancellationToken));

    private static Task<byte[]> FetchAsync(IImageShardGrain shard, MessageHeader header, Payload payload, CancellationToken cancellationToken) =>
        PayloadTransfer.FetchAsync(shard, header, payload, cancellationToken);
}
