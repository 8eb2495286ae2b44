using System.Diagnostics;
using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Shards;
using Distributed.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Storage;
using Distributed.Compute;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The durable, observable home of one job's training loop. The loop itself is Compute's <see cref="Trainer"/> over
/// <see cref="GrainImageWorkers"/>; it runs on the thread pool, off this grain's turn, so status, wait and cancel are
/// answered while it trains. What it reports (progress, checkpoints) is marshalled back onto the grain's scheduler
/// before it touches state. A job whose coordinator is reactivated while Running resumes from its last checkpoint.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An activation ends in OnDeactivateAsync, which cancels the work this source controls; disposing it while that work may still observe its token would race.")]
internal sealed class TrainingJobGrain(
    [FromKeyedServices(StorageNames.Checkpoints)] IGrainStorage checkpointStorage,
    Serializer serializer,
    MessageLimits limits,
    DistributedGrainOptions options,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain
{
    private readonly ChunkedBlobStore _store = new(checkpointStorage, "jobs", limits);
    private readonly PayloadOutbox _outbox = new();
    private readonly ILogger _logger = logger;
    private TaskCompletionSource _changed = NewSignal();
    private TaskScheduler _scheduler = TaskScheduler.Default;
    private JobRecord? _record;
    private TrainingSpec? _spec;
    private TrainingProgress? _progress;
    private string _job = "";
    private long _revision;
    private CancellationTokenSource? _cancel;
    private Task? _loop;
    private bool _userCancelled;
    private JobTracing? _tracing;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _job = JobId.Check(this.GetPrimaryKeyString());
        _scheduler = TaskScheduler.Current;
        if (await _store.ReadAsync(_job, cancellationToken) is { } blob) _record = serializer.Deserialize<JobRecord>(blob);
        if (_record?.State == JobState.Running) StartLoop(resume: true);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_loop is not { IsCompleted: false } loop) return;
        _cancel?.Cancel();
        await Task.WhenAny(loop, Task.Delay(Timeout.Infinite, cancellationToken));
    }

    public async Task<JobPlan> SubmitAsync(JobSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        MessageHeader header = MessageHeader.ForJob(_job);
        if (submission.Header.Job != _job) return JobPlan.Rejected(header, $"the submission names job '{submission.Header.Job}'.", "job");
        if (_record is not null) return JobPlan.Rejected(header, $"job '{_job}' already exists ({_record.State.ToString().ToLowerInvariant()}); choose another id.", "job");

        TrainingSpec spec;
        string[] names;
        string[]? paths = null;
        try
        {
            spec = SpecWire.Deserialize(submission.SpecJson);
            spec.Validate();
            (names, paths) = ImagesOf(submission);
        }
        catch (SpecException e)
        {
            return JobPlan.Rejected(header, e.Message, e.Field);
        }
        catch (Exception e) when (e is ImageLoadException or UnauthorizedAccessException)
        {
            return JobPlan.Rejected(header, e.Message, submission.DataPath is null ? "images" : "data-path");
        }
        if (submission.Shards < 0) return JobPlan.Rejected(header, $"shards = {submission.Shards}; allowed 0 (one per silo) or more.", "shards");
        if (names.Length > options.MaxImagesPerJob)
            return JobPlan.Rejected(header, $"{names.Length} images; this cluster takes at most {options.MaxImagesPerJob} per job (silo --max-images).", "images");

        int shards = submission.Shards > 0 ? submission.Shards : await ActiveSiloCountAsync();
        IReadOnlyList<IReadOnlyList<int>> plan = ShardPlan.Partition(names.Length, shards);
        int[][] planArrays = [.. plan.Select(s => s.ToArray())];
        await Task.WhenAll(planArrays.Select((images, s) => SetUpShardAsync(s, images, names.Length, submission, paths)));

        _spec = spec;
        _record = new JobRecord
        {
            State = JobState.Pending,
            SpecJson = submission.SpecJson,
            ImageNames = names,
            DataPath = submission.DataPath,
            Shards = planArrays,
            Reconstructions = Math.Max(0, submission.Reconstructions),
            MaxPixels = submission.MaxPixels,
            MaxFileBytes = submission.MaxFileBytes,
            SubmittedUtc = DateTimeOffset.UtcNow,
        };
        await PersistAsync();
        Changed();
        await PublishAsync();
        return new JobPlan
        {
            Header = header,
            Accepted = true,
            Shards = planArrays,
            ShardKeys = [.. planArrays.Select((_, s) => ShardKey.Format(_job, s))],
        };
    }

    public async Task<JobStatus> StartAsync(MessageHeader header)
    {
        if (_record is null) return JobStatus.Unknown(_job);
        if (_record.State != JobState.Pending) return Status();
        _record.State = JobState.Running;
        await PersistAsync();
        StartLoop(resume: false);
        Changed();
        await PublishAsync();
        return Status();
    }

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task<JobStatus> WaitStatusAsync(long afterRevision)
    {
        if (_revision > afterRevision || _record is null || Status().IsTerminal) return Status();
        await Task.WhenAny(_changed.Task, Task.Delay(options.WaitWindow));
        return Status();
    }

    public async Task<JobStatus> CancelAsync()
    {
        if (_record is null) return JobStatus.Unknown(_job);
        if (_record.State == JobState.Pending)
        {
            _record.State = JobState.Cancelled;
            await PersistAsync();
            Changed();
            await PublishAsync();
        }
        else if (_record.State == JobState.Running)
        {
            _userCancelled = true;
            _cancel?.Cancel();
        }
        return Status();
    }

    public Task<JobResult?> GetResultAsync()
    {
        if (_record is not { State: JobState.Completed } record) return Task.FromResult<JobResult?>(null);
        // No clearing: another client may be fetching the same result; the outbox drops transfers once taken.
        var budget = new InlineBudget(limits);
        Payload Pack(byte[] bytes) => _outbox.Offer(bytes, limits, budget);
        // Stored tensors are inline; re-offer each so the reply as a whole stays under the limit.
        TensorBlob Reoffer(TensorBlob t) => t with { Data = Pack(t.Data.Inline!) };
        return Task.FromResult<JobResult?>(new JobResult
        {
            Job = _job,
            SpecJson = record.SpecJson,
            Layers = [.. record.Layers.Select(l => l with { Filters = Reoffer(l.Filters) })],
            Metrics = [.. record.Metrics],
            ElapsedSeconds = record.ElapsedSeconds,
            ImageNames = record.ImageNames,
            Reports = [.. record.Reports.Select(r => r with
            {
                Input = Reoffer(r.Input),
                Reconstructions = [.. r.Reconstructions.Select(Reoffer)],
                Maps = r.Maps is null ? null : [.. r.Maps.Select(Reoffer)],
            })],
            CompletedUtc = record.CompletedUtc ?? DateTimeOffset.UtcNow,
        });
    }

    public Task<PayloadChunk> GetChunkAsync(MessageHeader header, Guid transfer, int index) =>
        Task.FromResult(_outbox.Take(header, transfer, index, limits));

    private void StartLoop(bool resume)
    {
        // No call need arrive while it trains (nobody may be watching): idle collection must wait for the loop.
        DelayDeactivation(TimeSpan.MaxValue);
        _cancel = new CancellationTokenSource();
        _loop = RunJobAsync(resume, _cancel.Token);
    }

    /// <summary>The job from sealing its shards to its result; runs on this grain's scheduler, the Trainer off it.</summary>
    private async Task RunJobAsync(bool resume, CancellationToken cancellationToken)
    {
        JobRecord record = _record!;
        MessageHeader header = MessageHeader.ForJob(_job);
        using Activity? jobSpan = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Job, header);
        jobSpan?.SetTag(TelemetryNames.Tags.Images, record.ImageNames.Length);
        jobSpan?.SetTag(TelemetryNames.Tags.Shards, record.Shards.Length);
        using var tracing = new JobTracing(_job, jobSpan);
        _tracing = tracing;
        try
        {
            TrainingSpec spec = Spec();
            IImageShardGrain[] shards = [.. record.Shards.Select((_, s) => GrainFactory.GetGrain<IImageShardGrain>(ShardKey.Format(_job, s)))];
            if (!resume) await Task.WhenAll(shards.Select(s => s.SealAsync(header)));
            var workers = new GrainImageWorkers(GrainFactory, _job, spec, record.Shards, record.InputPlanes, limits, tracing, _logger, options);
            var observer = new Observer(this);
            TrainingCheckpoint? from = resume ? Resumption(record, spec) : null;
            if (!resume) JobLog.Started(_logger, _job, record.ImageNames.Length, record.Shards.Length);
            else if (from is null) JobLog.ResumedFromStart(_logger, _job);
            else JobLog.Resumed(_logger, _job, from.Layer, from.NextEpoch);
            // Off the grain's turn: the loop's solves are CPU work, and status calls must not wait for them.
            TrainingResult result = await Task.Run(() => new Trainer(spec, workers, observer).RunAsync(from, cancellationToken), cancellationToken);
            int[] shown = [.. Enumerable.Range(0, Math.Min(record.Reconstructions, record.ImageNames.Length))];
            IReadOnlyList<ImageReport> reports = shown.Length == 0 ? [] : await Task.Run(() =>
                workers.ReportAsync(new ReportRequest([.. result.Layers.Select(l => l.Frozen)], shown, false), cancellationToken), cancellationToken);

            record.Layers = [.. result.Layers.Select(l => ResultWire.ToMessage(l, Payload.FromInline))];
            record.Reports = [.. reports.Select(r => ResultWire.ToMessage(r, Payload.FromInline))];
            record.Metrics = [.. result.Metrics.Select(m => m.ToMessage())];
            record.ElapsedSeconds = result.Elapsed.TotalSeconds + (resume ? record.ElapsedSeconds : 0);
            record.CompletedUtc = DateTimeOffset.UtcNow;
            record.Checkpoint = null;
            record.State = JobState.Completed;
            JobLog.Completed(_logger, _job, record.ElapsedSeconds);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested && !_userCancelled)
        {
            // This activation is going away (silo shutdown, or Orleans deactivating it because the silo that held its
            // directory entry died): whatever the loop was doing fails as it stops — a cancellation, or a call to a
            // shard whose silo just went — and none of that is the job's end. It stays Running and resumes from its
            // checkpoint in the next activation.
            JobLog.Suspended(_logger, _job);
            _tracing = null;
            return;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The user cancelled: whatever the loop failed with as it stopped is part of stopping.
            record.State = JobState.Cancelled;
            JobLog.Cancelled(_logger, _job);
        }
        catch (Exception e)
        {
            record.State = JobState.Failed;
            record.Error = e.Message;
            record.ErrorField = (e as SpecException)?.Field ?? (e as ShardInputException)?.Field;
            jobSpan?.SetStatus(ActivityStatusCode.Error, e.Message);
            JobLog.Failed(_logger, e, _job, record.ErrorField, e.Message);
        }
        jobSpan?.SetTag("distributed.state", record.State.ToString());
        DistributedTelemetry.ClearJobGauges(_job);
        await PersistAsync();
        await ReleaseShardsAsync(record, header);
        Changed();
        await PublishAsync();
        _tracing = null;
        DelayDeactivation(TimeSpan.FromMilliseconds(-1));
    }

    /// <summary>
    /// A job that has ended (its record says so first) no longer needs its shards: each deletes its stored images and
    /// deactivates. Best effort: a shard that does not answer keeps them, and the job's result does not depend on it.
    /// </summary>
    private async Task ReleaseShardsAsync(JobRecord record, MessageHeader header)
    {
        try
        {
            await Task.WhenAll(record.Shards.Select((_, s) => GrainFactory.GetGrain<IImageShardGrain>(ShardKey.Format(_job, s)).ReleaseAsync(header)));
        }
        catch (Exception e)
        {
            JobLog.ShardsNotReleased(_logger, e, _job);
        }
    }

    private static TrainingCheckpoint? Resumption(JobRecord record, TrainingSpec spec)
    {
        if (record.Checkpoint is not { } c) return null;
        FilterBank filters = TensorWire.ToFilterBank(c.Filters, c.Filters.Data.Inline!);
        FilterNormalEquations? running = c.RunningGram is { } gram && c.RunningB is { } b
            ? TensorWire.ToNormalEquations(spec.ConnectivityFor(c.Layer, filters.Inputs), TensorWire.ToFilterBank(b, b.Data.Inline!), gram, gram.Data.Inline!,
                c.RunningSumSquares, c.RunningImages)
            : null;
        FilterBank? eigenvector = c.Eigenvector is { } e ? TensorWire.ToFilterBank(e, e.Data.Inline!) : null;
        return new TrainingCheckpoint(c.Layer, c.NextEpoch, filters, c.FilterVersion, c.InputScale,
            [.. c.Completed.Select(l => ResultWire.ToLayerResult(l, l.Filters.Data.Inline!))], [.. record.Metrics.Select(m => m.ToMetrics())], running, eigenvector);
    }

    private void ApplyProgress(TrainingProgress progress)
    {
        _progress = progress;
        if (progress.Last is { } last) DistributedTelemetry.SetJobGauges(_job, last.Objective, last.NonzeroFraction);
        Changed();
    }

    private async Task SaveCheckpointAsync(TrainingCheckpoint checkpoint)
    {
        JobRecord record = _record!;
        var header = new MessageHeader(_job, checkpoint.Layer, checkpoint.NextEpoch - 1, checkpoint.FilterVersion);
        EpochMetrics? last = checkpoint.Metrics.Count > 0 ? checkpoint.Metrics[^1] : null;
        using Activity? span = _tracing?.BeginCheckpoint(header);
        record.Metrics = [.. checkpoint.Metrics.Select(m => m.ToMessage())];
        record.Checkpoint = new CheckpointRecord
        {
            Layer = checkpoint.Layer,
            NextEpoch = checkpoint.NextEpoch,
            Filters = TensorWire.Blob(TensorWire.ShapeOf(checkpoint.Filters), checkpoint.Filters.Data, Payload.FromInline),
            FilterVersion = checkpoint.FilterVersion,
            InputScale = checkpoint.InputScale,
            Completed = [.. checkpoint.Completed.Select(l => ResultWire.ToMessage(l, Payload.FromInline))],
            // Minibatch's running A is kept with the checkpoint (34 MB for 64 maps of 8×8, in the record's chunked blob):
            // without it a resumed job would restart its statistics and not continue as the uninterrupted run.
            RunningGram = checkpoint.RunningStatistics is { } running ? TensorWire.Blob(TensorWire.GramShape(running), running.Gram, Payload.FromInline) : null,
            RunningB = checkpoint.RunningStatistics is { } r ? TensorWire.Blob(TensorWire.ShapeOf(r.B), r.B.Data, Payload.FromInline) : null,
            RunningSumSquares = checkpoint.RunningStatistics?.SumSquaredInputs ?? 0,
            RunningImages = checkpoint.RunningStatistics?.Images ?? 0,
            Eigenvector = checkpoint.Eigenvector is { } e ? TensorWire.Blob(TensorWire.ShapeOf(e), e.Data, Payload.FromInline) : null,
        };
        await PersistAsync();
        span?.SetTag(TelemetryNames.Tags.Images, last?.Images ?? 0);
        JobLog.CheckpointSaved(_logger, _job, checkpoint.Layer, checkpoint.NextEpoch);
        DistributedTelemetry.EpochsCompleted.Add(1, new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, _job));
        Changed();
        await PublishAsync();
    }

    private JobStatus Status()
    {
        if (_record is null) return JobStatus.Unknown(_job);
        TrainingSpec? spec = TryParse();
        TrainingProgress? p = _progress;
        bool done = _record.State == JobState.Completed;
        return new JobStatus
        {
            Job = _job,
            State = _record.State,
            Layer = p?.Layer ?? 0,
            Layers = p?.Layers ?? spec?.Layers.Count ?? 0,
            Epoch = p?.Epoch ?? 0,
            Epochs = p?.Epochs ?? (spec is { Layers.Count: > 0 } ? spec.Layers[0].Epochs : (int?)null) ?? 0,
            Fraction = done ? 1 : p?.Fraction ?? 0,
            History = [.. _record.Metrics],
            ImagesPerSecond = p?.ImagesPerSecond ?? 0,
            ElapsedSeconds = done ? _record.ElapsedSeconds : p?.Elapsed.TotalSeconds ?? 0,
            RemainingSeconds = done ? 0 : p?.Remaining?.TotalSeconds,
            Images = _record.ImageNames.Length,
            Shards = _record.Shards.Length,
            Error = _record.Error,
            ErrorField = _record.ErrorField,
            SubmittedUtc = _record.SubmittedUtc,
            Revision = _revision,
        };
    }

    /// <summary>The job's spec, parsed once per activation: at submission, or from the stored record when first needed.</summary>
    private TrainingSpec Spec() => _spec ??= SpecWire.Deserialize(_record!.SpecJson);

    private TrainingSpec? TryParse()
    {
        try
        {
            return Spec();
        }
        catch (SpecException)
        {
            return null;
        }
    }

    private (string[] Names, string[]? Paths) ImagesOf(JobSubmission submission)
    {
        if (submission.DataPath is { } path)
        {
            if (submission.ImageNames.Length > 0) throw new SpecException("give the images by upload or by data path, not both.", "images");
            string folder = DataRoot.Resolve(options.DataRoot, path);
            string root = Path.GetFullPath(options.DataRoot!);
            string[] files = [.. ImageSet.ListFolder(folder).Select(f => DataRoot.Checked(options.DataRoot, Path.GetRelativePath(root, f)))];
            if (files.Length == 0) throw new SpecException($"no images under '{path}' in the data root.", "images");
            return ([.. files.Select(Path.GetFileName).Select(n => n!)], files);
        }
        if (submission.ImageNames.Length == 0) throw new SpecException("there are no images to train on.", "images");
        return (submission.ImageNames, null);
    }

    private async Task SetUpShardAsync(int shard, int[] images, int jobImages, JobSubmission submission, string[]? paths)
    {
        var header = MessageHeader.ForJob(_job);
        IImageShardGrain grain = GrainFactory.GetGrain<IImageShardGrain>(ShardKey.Format(_job, shard));
        await grain.InitializeAsync(new ShardSetup
        {
            Header = header,
            SpecJson = submission.SpecJson,
            Images = images,
            MaxPixels = submission.MaxPixels,
            MaxFileBytes = submission.MaxFileBytes,
            JobImages = jobImages,
        });
        if (paths is null) return;
        // Paths are short; batches of 256 keep each message far under any limit.
        foreach (int[] batch in images.Chunk(256))
            await grain.AddFilesAsync(new ShardFiles { Header = header, Indices = batch, RelativePaths = [.. batch.Select(i => paths[i])] });
    }

    private async Task<int> ActiveSiloCountAsync()
    {
        Dictionary<SiloAddress, SiloStatus> hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        return Math.Max(1, hosts.Count);
    }

    private Task PersistAsync() => _store.WriteAsync(_job, serializer.SerializeToArray(_record!));

    /// <summary>
    /// Tells the registry (what `list` shows). Best effort: the registry may be re-activating after its silo died,
    /// and a job must not fail for that; the next change, or the <see cref="JobKeeper"/>, publishes again.
    /// </summary>
    private async Task PublishAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).UpdateAsync(JobSummary.From(Status()));
        }
        catch (Exception e) when (TransientFaults.IsTransient(e))
        {
            _tracing?.Job?.AddEvent(new ActivityEvent("registry unreachable"));
        }
    }

    private void Changed()
    {
        _revision++;
        TaskCompletionSource previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The Trainer's observer, called on the thread pool. Progress and checkpoints touch the grain's state, so they are
    /// handed to the grain's scheduler; the phase hooks only open and close spans (<see cref="JobTracing"/> locks) and
    /// log, so they run where they are called, in the trainer's order.
    /// </summary>
    private sealed class Observer(TrainingJobGrain grain) : ITrainingObserver
    {
        private string Job => grain._job;

        private JobTracing? Tracing => grain._tracing;

        public void OnLayerStarted(int layer)
        {
            Tracing?.LayerStarted(layer);
            JobLog.LayerStarted(grain._logger, Job, layer);
        }

        public void OnLayerEnded(LayerResult layer)
        {
            Tracing?.LayerEnded();
            JobLog.LayerEnded(grain._logger, Job, layer.Layer, layer.Final.Objective);
        }

        public void OnEpochStarted(EpochPhase epoch)
        {
            Tracing?.EpochStarted(epoch);
            JobLog.EpochStarted(grain._logger, Job, epoch.Layer, epoch.Epoch, epoch.FilterVersion, epoch.Final);
        }

        public void OnEpochEnded(EpochPhase epoch, EpochMetrics? metrics)
        {
            Tracing?.EpochEnded(metrics);
            if (metrics is not null)
                JobLog.EpochEnded(grain._logger, Job, epoch.Layer, epoch.Epoch, metrics.Objective, metrics.NonzeroFraction, metrics.Seconds);
        }

        public void OnFilterUpdateStarted(FilterUpdatePhase update)
        {
            Tracing?.FilterUpdateStarted(update);
            JobLog.FilterUpdate(grain._logger, Job, update.Layer, update.Epoch, update.FilterVersion);
        }

        public void OnFilterUpdateEnded(FilterUpdatePhase update) => Tracing?.FilterUpdateEnded();

        public void OnProgress(TrainingProgress progress) =>
            _ = Task.Factory.StartNew(() => grain.ApplyProgress(progress), CancellationToken.None, TaskCreationOptions.None, grain._scheduler);

        public async ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) =>
            await Task.Factory.StartNew(() => grain.SaveCheckpointAsync(checkpoint), cancellationToken, TaskCreationOptions.None, grain._scheduler).Unwrap();
    }
}
