using System.Diagnostics;
using Distributed.Client.Commands;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using ShardImage = Distributed.Grains.Abstractions.Shards.EncodedImage;
using Distributed.Compute;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Client.Cluster;

/// <summary>
/// The Orleans engine: submits the job to its coordinator grain, uploads each shard's images (encoded files, batched
/// and chunked under the message limit), starts it and follows its status into the progress bar, then fetches the
/// result: the same <see cref="TrainingResult"/> the serial engine returns, so `train` writes the same folder.
/// </summary>
internal sealed class DistributedEngine(IGrainFactory grains, MessageLimits limits, int shards, string where, IAsyncDisposable? session = null) : ITrainingEngine
{
    /// <summary>An engine on <paramref name="session"/>, which it closes when disposed.</summary>
    public DistributedEngine(ClusterSession session, int shards)
        : this(session.Grains, session.Limits, shards, session.Embedded ? "embedded silo" : session.Description, session)
    {
    }

    public string Name => $"distributed, {where}";

    /// <summary>The id the next submission uses; null: a new one from the clock.</summary>
    public string? JobId { get; init; }

    public async Task<EngineRun> TrainAsync(TrainingSpec spec, ImageInput input, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        using Activity? span = DistributedTelemetry.Source.StartActivity(TelemetryNames.Spans.Train, ActivityKind.Client);
        Submitted job = await SubmitAsync(spec, input, cancellationToken);
        span?.SetTag(TelemetryNames.Tags.Job, job.Id);
        JobStatus final;
        try
        {
            final = await JobWatcher.FollowAsync(grains, job.Id, s => observer.OnProgress(JobWatcher.ToProgress(s)), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await grains.GetGrain<ITrainingJobGrain>(job.Id).CancelAsync();
            throw;
        }
        if (final.State == JobState.Failed)
            throw final.ErrorField is { } field ? new SpecException(final.Error ?? "the job failed.", field) : new UserException($"job {job.Id} failed: {final.Error}");
        if (final.State != JobState.Completed) throw new UserException($"job {job.Id} ended {final.State.ToString().ToLowerInvariant()}.");
        var (result, names, reports) = await JobWatcher.ResultAsync(grains, job.Id);
        return new EngineRun(result, names, reports, job.Warnings);
    }

    /// <summary>
    /// Validates the spec and images here (bad input fails before anything is sent), submits the job, uploads the
    /// images to their shards and starts it. Returns without waiting for training (`train --detach`).
    /// </summary>
    public async Task<Submitted> SubmitAsync(TrainingSpec spec, ImageInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(input);
        spec.Validate();
        ImageSet set = SerialEngine.SkipTooSmall(ImageSet.LoadFiles(input.Files, input.Options with { Grey = spec.Grey }), spec, input.Options);
        string id = JobId ?? Grains.Abstractions.Jobs.JobId.New(TimeProvider.System);
        if (!Grains.Abstractions.Jobs.JobId.IsValid(id))
            throw new SpecException($"job id '{id}' is invalid; use 1..{Grains.Abstractions.Jobs.JobId.MaxLength} characters from A-Z, a-z, 0-9, '.', '_', '-'.", "job");
        var header = MessageHeader.ForJob(id);
        ITrainingJobGrain job = grains.GetGrain<ITrainingJobGrain>(id);
        JobPlan plan = await job.SubmitAsync(new JobSubmission
        {
            Header = header,
            SpecJson = SpecWire.Serialize(spec),
            ImageNames = [.. set.Images.Select(i => i.Name)],
            Shards = shards,
            Reconstructions = input.Reconstructions,
            MaxPixels = input.Options.MaxPixels,
            MaxFileBytes = input.Options.MaxFileBytes,
        });
        if (!plan.Accepted) throw new SpecException(plan.Error ?? "the cluster refused the job.", plan.Field ?? "spec");
        string[] sources = [.. set.Images.Select(i => i.Source)];
        string[] names = [.. set.Images.Select(i => i.Name)];
        await Task.WhenAll(plan.Shards.Select((images, s) => UploadAsync(grains.GetGrain<IImageShardGrain>(plan.ShardKeys[s]), header, images, sources, names, cancellationToken)));
        await job.StartAsync(header);
        return new Submitted(id, set.Images.Select(i => i.Name).ToArray(), set.Warnings);
    }

    /// <summary>One shard's images in batches whose inline bytes stay under the limit; an image over it goes as chunks.</summary>
    private async Task UploadAsync(IImageShardGrain shard, MessageHeader header, IReadOnlyList<int> images, string[] sources, string[] names, CancellationToken cancellationToken)
    {
        using Activity? span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Upload, header);
        var batch = new List<ShardImage>();
        var budget = new InlineBudget(limits);
        foreach (int index in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] bytes = await File.ReadAllBytesAsync(sources[index], cancellationToken);
            if (bytes.LongLength > budget.Remaining && batch.Count > 0)
            {
                await shard.AddImagesAsync(new ImageBatch { Header = header, Images = [.. batch] });
                batch.Clear();
                budget = new InlineBudget(limits);
            }
            Payload content = await PayloadTransfer.SendAsync(shard, header, bytes, limits, budget, cancellationToken);
            batch.Add(new ShardImage { Index = index, Name = names[index], Content = content });
        }
        if (batch.Count > 0) await shard.AddImagesAsync(new ImageBatch { Header = header, Images = [.. batch] });
    }

    /// <summary>
    /// `infer` on the cluster: the client sets up shards of its own (one per active silo unless --shards says), uploads
    /// each its images, seals them, and runs the model's requests on them itself; no coordinator and no job record, since
    /// a single pass with fixed filters has nothing to checkpoint and its results stream straight to the client's disk.
    /// The files are read one at a time as they are uploaded; the shards decode them (a bad one fails the run, naming it).
    /// </summary>
    public async Task<EngineImages> OpenImagesAsync(TrainingSpec spec, ImageInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var (files, warnings) = SerialEngine.UsableFiles(spec, input);
        string id = JobId ?? $"infer-{Grains.Abstractions.Jobs.JobId.New(TimeProvider.System)}";
        if (!Grains.Abstractions.Jobs.JobId.IsValid(id))
            throw new SpecException($"job id '{id}' is invalid; use 1..{Grains.Abstractions.Jobs.JobId.MaxLength} characters from A-Z, a-z, 0-9, '.', '_', '-'.", "job");
        var header = MessageHeader.ForJob(id);
        int count = shards > 0 ? shards : Math.Max(1, (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true, cancellationToken)).Count);
        IReadOnlyList<IReadOnlyList<int>> plan = ShardPlan.Partition(files.Count, count);
        string specJson = SpecWire.Serialize(spec);
        string[] sources = [.. files];
        string[] names = [.. files.Select(f => Path.GetFileName(f)!)];
        IImageShardGrain[] shardGrains = [.. plan.Select((_, s) => grains.GetGrain<IImageShardGrain>(ShardKey.Format(id, s)))];
        Task Release() => Task.WhenAll(shardGrains.Select(shard => shard.ReleaseAsync(header)));
        try
        {
            await Task.WhenAll(plan.Select(async (images, s) =>
            {
                IImageShardGrain shard = shardGrains[s];
                await shard.InitializeAsync(new ShardSetup
                {
                    Header = header,
                    SpecJson = specJson,
                    Images = [.. images],
                    MaxPixels = input.Options.MaxPixels,
                    MaxFileBytes = input.Options.MaxFileBytes,
                    JobImages = files.Count,
                });
                await UploadAsync(shard, header, images, sources, names, cancellationToken);
                await shard.SealAsync(header);
            }));
        }
        catch (Exception)
        {
            // Shards that sealed stored their images: a failed upload leaves none behind.
            try
            {
                await Release();
            }
            catch (Exception)
            {
                // The upload's own error is the one to report.
            }
            throw;
        }
        int planes = spec.Grey ? 1 : 3;
        IImageWorkers workers = Grains.Jobs.ShardWorkers.Create(grains, id, spec, plan, planes, limits, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return new EngineImages(workers, names, warnings, Release);
    }

    public ValueTask DisposeAsync() => session?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>A submitted job: its id, image names in global order, and the warnings of loading them.</summary>
    public sealed record Submitted(string Id, IReadOnlyList<string> Names, IReadOnlyList<string> Warnings);
}
