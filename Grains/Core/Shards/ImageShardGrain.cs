using System.Diagnostics;
using System.Security.Cryptography;
using ImageLoadException = Distributed.Compute.Imaging.ImageLoadException;
using ImageLoadOptions = Distributed.Compute.Imaging.ImageLoadOptions;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Execution;
using Distributed.Grains.Placement;
using Distributed.Grains.Shards.Protocol;
using Distributed.Grains.Storage;
using Distributed.Grains.Tiles;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Distributed.Compute;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Shards;

/// <summary>
/// Holds one shard of a job's images and wraps a Compute <see cref="ImageShard"/>. Orchestration only: it stages and
/// checks payloads, persists what it was given, and runs the numbers on the silo's <see cref="ComputeScheduler"/> as
/// background work that <see cref="StartAsync"/> begins and <see cref="WaitAsync"/> collects. The maps are soft state:
/// a fresh activation reloads its images and the Compute shard rebuilds maps from the frozen layers on demand.
/// </summary>
[ShardSpreadPlacement]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An activation ends in OnDeactivateAsync, which cancels the work this source controls; disposing it while that work may still observe its token would race.")]
internal sealed class ImageShardGrain(
    [FromKeyedServices(StorageNames.Images)] IGrainStorage imageStorage,
    Serializer serializer,
    MessageLimits limits,
    DistributedGrainOptions options,
    ComputeScheduler compute,
    IShardWorkGate gate,
    IClusterMembershipService membership) : Grain, IImageShardGrain
{
    private readonly PayloadStaging _staging = new(limits);
    private readonly PayloadOutbox _outbox = new();
    private readonly SortedDictionary<int, ShardImageRecord> _images = [];
    private readonly ChunkedBlobStore _store = new(imageStorage, "shard-images", limits);
    private ShardImagesState? _setup;
    private string _job = "";
    private int _shard;
    private bool _sealed;
    private ImageShard? _compute;
    private TrainingSpec? _spec;
    private Guid _ticket;
    private Task<ShardReply>? _running;
    private CancellationTokenSource? _cancel;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_job, _shard) = ShardKey.Parse(this.GetPrimaryKeyString());
        if (await _store.ReadAsync(this.GetPrimaryKeyString(), cancellationToken) is not { } blob) return;
        ShardImagesState state = serializer.Deserialize<ShardImagesState>(blob)
            ?? throw new InvalidDataException($"stored state of shard {this.GetPrimaryKeyString()} is empty.");
        _setup = state;
        foreach (ShardImageRecord image in state.Images) _images[image.Index] = image;
        _sealed = state.Sealed;
    }

    /// <summary>Work still running is nobody's once this activation goes: it stops rather than use the silo's cores.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public Task InitializeAsync(ShardSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        CheckJob(setup.Header);
        if (_setup is not null)
        {
            if (_setup.SpecJson == setup.SpecJson && _setup.Expected.SequenceEqual(setup.Images)) return Task.CompletedTask;
            throw new InvalidOperationException($"shard {_shard} of job {_job} was already set up differently.");
        }
        int jobImages = Math.Max(setup.JobImages, setup.Images.Length);
        if (jobImages > options.MaxImagesPerJob)
            throw new ShardInputException($"{jobImages} images; this cluster takes at most {options.MaxImagesPerJob} per job (silo --max-images).", "images");
        _setup = new ShardImagesState
        {
            SpecJson = setup.SpecJson,
            Expected = setup.Images,
            MaxPixels = setup.MaxPixels,
            MaxFileBytes = setup.MaxFileBytes,
            JobImages = jobImages,
        };
        return Task.CompletedTask;
    }

    public Task PutChunkAsync(PayloadChunk chunk)
    {
        CheckJob(chunk.Header);
        // Before sealing, chunks are uploads and count against the shard's share of the job's budget; after, they
        // are the coordinator's command payloads, bounded by the staging limits alone.
        long budget = _sealed || _setup is null ? long.MaxValue : UploadBudget - StoredBytes - _staging.ClaimedBytes;
        _staging.Put(chunk, budget);
        return Task.CompletedTask;
    }

    /// <summary>This shard's share of the job's upload budget: the silo's per-job budget times its share of the images.</summary>
    private long UploadBudget
    {
        get
        {
            ShardImagesState setup = RequireSetup();
            double share = setup.Expected.Length / (double)Math.Max(1, Math.Max(setup.JobImages, setup.Expected.Length));
            return (long)Math.Ceiling(options.MaxUploadBytesPerJob * share);
        }
    }

    private long StoredBytes => _images.Values.Sum(i => i.Encoded.LongLength);

    public Task<PayloadChunk> GetChunkAsync(MessageHeader header, Guid transfer, int index)
    {
        CheckJob(header);
        return Task.FromResult(_outbox.Take(header, transfer, index, limits));
    }

    public Task<int> AddImagesAsync(ImageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        CheckJob(batch.Header);
        CheckOpen();
        using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Upload, batch.Header);
        span?.SetTag(TelemetryNames.Tags.Shard, _shard);
        span?.SetTag(TelemetryNames.Tags.Images, batch.Images.Length);
        long bytes = 0;
        foreach (EncodedImage image in batch.Images)
        {
            CheckExpected(image.Index, image.Name);
            byte[] encoded = _staging.Resolve(image.Content);
            long replaced = _images.TryGetValue(image.Index, out ShardImageRecord? earlier) ? earlier.Encoded.LongLength : 0;
            long total = StoredBytes - replaced + encoded.LongLength;
            if (total > UploadBudget)
                throw new PayloadLimitException($"image {image.Index} ('{image.Name}'): {total} bytes stored on shard {_shard} of job {_job} would pass its share of the job's upload budget, {UploadBudget} bytes (silo --max-upload-bytes).");
            bytes += encoded.LongLength;
            _images[image.Index] = new ShardImageRecord { Index = image.Index, Name = image.Name, Encoded = encoded };
        }
        span?.SetTag(TelemetryNames.Tags.Bytes, bytes);
        return Task.FromResult(_images.Count);
    }

    public Task<int> AddFilesAsync(ShardFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        CheckJob(files.Header);
        CheckOpen();
        if (files.Indices.Length != files.RelativePaths.Length)
            throw new ArgumentException($"{files.Indices.Length} indices but {files.RelativePaths.Length} paths.", nameof(files));
        for (int i = 0; i < files.Indices.Length; i++)
        {
            string relative = files.RelativePaths[i];
            string full = DataRoot.Resolve(options.DataRoot, relative);
            if (!File.Exists(full)) throw new FileNotFoundException($"{relative}: no such file under the data root of silo {RuntimeIdentity}.");
            CheckExpected(files.Indices[i], relative);
            _images[files.Indices[i]] = new ShardImageRecord { Index = files.Indices[i], Name = Path.GetFileName(relative), Encoded = [], RelativePath = relative };
        }
        return Task.FromResult(_images.Count);
    }

    public async Task<ShardDescription> SealAsync(MessageHeader header)
    {
        CheckJob(header);
        ShardImagesState setup = RequireSetup();
        if (!_sealed)
        {
            int[] missing = setup.Expected.Where(i => !_images.ContainsKey(i)).ToArray();
            if (missing.Length > 0)
                throw new InvalidOperationException($"shard {_shard} of job {_job} is missing {missing.Length} of its {setup.Expected.Length} images (first: {missing[0]}).");
            using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Checkpoint, header);
            span?.SetTag(TelemetryNames.Tags.Shard, _shard);
            setup.Images = [.. _images.Values];
            setup.Sealed = true;
            byte[] blob = serializer.SerializeToArray(setup);
            span?.SetTag(TelemetryNames.Tags.Bytes, blob.LongLength);
            await _store.WriteAsync(this.GetPrimaryKeyString(), blob);
            _sealed = true;
            _staging.Clear();
        }
        return Describe(header);
    }

    public Task<ShardDescription> DescribeAsync(MessageHeader header)
    {
        CheckJob(header);
        return Task.FromResult(Describe(header));
    }

    public async Task<Guid> StartAsync(ShardCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        CheckJob(command.Header);
        if (!_sealed) throw new InvalidOperationException($"shard {_shard} of job {_job} has not been sealed; upload its images first.");
        if (_running is { IsCompleted: false } previous)
        {
            // The job's one coordinator sends commands one at a time, so a new one while work runs means the sender
            // lost track of it (it failed over, or was itself resumed elsewhere): nobody will collect that work.
            // It stops and ends before the next begins, as both would use the same maps.
            _cancel?.Cancel();
            try
            {
                await previous;
            }
            catch (Exception)
            {
                // Abandoned work: its outcome, cancelled or failed, has no reader.
            }
        }
        _outbox.Clear();
        _cancel?.Dispose();
        _cancel = new CancellationTokenSource();
        _ticket = Guid.NewGuid();
        _running = RunAsync(command, _cancel.Token);
        return _ticket;
    }

    public async Task<ShardWaitResult> WaitAsync(MessageHeader header, Guid ticket)
    {
        CheckJob(header);
        // The run this ticket started, held here: a command that arrives meanwhile replaces the fields, not this.
        if (ticket != _ticket || _running is not { } run) return Lost;
        if (!run.IsCompleted) await Task.WhenAny(run, Task.Delay(options.WaitWindow));
        if (ticket != _ticket) return Lost;
        if (!run.IsCompleted) return new ShardWaitResult { Done = false };
        try
        {
            return new ShardWaitResult { Done = true, Reply = await run };
        }
        catch (Exception e) when (e is OperationCanceledException or PayloadMissingException)
        {
            // Cancelled (by a newer command, a cancel, or this activation's end) or its staged input went with a
            // previous activation: the sender starts it again if it still wants it. An error here would end its job.
            return Lost;
        }
    }

    public Task CancelAsync(MessageHeader header, Guid ticket)
    {
        CheckJob(header);
        if (ticket == _ticket) _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public async Task ReleaseAsync(MessageHeader header)
    {
        CheckJob(header);
        _cancel?.Cancel();
        await _store.ClearAsync(this.GetPrimaryKeyString());
        _images.Clear();
        _staging.Clear();
        _outbox.Clear();
        (_setup, _sealed, _compute, _spec, _running) = (null, false, null, null, null);
        _ticket = Guid.Empty;
        DeactivateOnIdle();
    }

    private static ShardWaitResult Lost => new() { Done = false, Lost = true };

    /// <summary>
    /// One command's work: its handler decodes it here, on the grain's turn (the staging area belongs to this
    /// activation), the request runs on the compute scheduler, and the handler writes the reply.
    /// </summary>
    private async Task<ShardReply> RunAsync(ShardCommand command, CancellationToken cancellationToken)
    {
        MessageHeader header = command.Header;
        IShardCommandHandler handler = ShardProtocol.ForCommand(command);
        using var span = DistributedTelemetry.StartSpan(handler.Operation, header);
        span?.SetTag(TelemetryNames.Tags.Shard, _shard);
        span?.SetTag(TelemetryNames.Tags.Silo, RuntimeIdentity);
        IPreparedShardWork work = handler.Prepare(command, new CommandReader(_staging.Resolve));

        await gate.EnterAsync(header, _shard, handler.Operation, cancellationToken);
        ShardImagesState setup = RequireSetup();
        ImageShard? built = _compute;
        ShardImageRecord[] records = [.. _images.Values];
        long started = Stopwatch.GetTimestamp();
        try
        {
            TrainingSpec spec = Spec();
            IGrainFactory grains = GrainFactory;
            bool spread = membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) > 1;
            _compute = await compute.RunAsync(ct =>
            {
                ImageShard shard = built ?? ShardWork.Build(_shard, spec, records,
                    ImageLoadOptions.Default with { MaxPixels = setup.MaxPixels, MaxFileBytes = setup.MaxFileBytes },
                    options, compute.Slots, ct);
                // A large image's tiles go to tile grains over the silos, driven from here for this command; with one
                // silo they stay in process, on this command's threads, without the messages.
                shard.Tiles = spread ? new GrainTileHost(grains, header, _shard, limits, ct) : null;
                work.Run(shard, ct);
                return shard;
            }, cancellationToken);
        }
        catch (Exception e) when (e is SpecException or ImageLoadException)
        {
            // The input is at fault, not this silo: tell the coordinator in a form that crosses silos (no inner
            // exception, which would not).
            throw new ShardInputException(e.Message, (e as SpecException)?.Field ?? "images");
        }
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // Payloads share one inline budget; the rest wait in the outbox for the coordinator to pull.
        var budget = new InlineBudget(limits);
        ShardReply reply = work.Reply(new ReplyWriter(header, bytes => _outbox.Offer(bytes, limits, budget), span, seconds));
        return reply with { Header = header, Shard = _shard, Seconds = seconds, Silo = RuntimeIdentity };
    }

    /// <summary>The job's spec, parsed once per activation (it arrives as JSON with the setup, or from storage).</summary>
    private TrainingSpec Spec() => _spec ??= SpecWire.Deserialize(RequireSetup().SpecJson);

    private ShardDescription Describe(MessageHeader header) => new()
    {
        Header = header,
        Shard = _shard,
        Silo = RuntimeIdentity,
        Sealed = _sealed,
        Images = [.. _images.Values.Select(i => new StoredImage
        {
            Index = i.Index,
            Name = i.Name,
            Bytes = i.Encoded.LongLength,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(i.Encoded)),
        })],
    };

    private ShardImagesState RequireSetup() =>
        _setup ?? throw new InvalidOperationException($"shard {_shard} of job {_job} was never set up by its job.");

    private void CheckOpen()
    {
        RequireSetup();
        if (_sealed) throw new InvalidOperationException($"shard {_shard} of job {_job} is sealed; it takes no more images.");
    }

    private void CheckExpected(int index, string name)
    {
        if (Array.BinarySearch(RequireSetup().Expected, index) < 0)
            throw new ArgumentException($"image {index} ('{name}') does not belong to shard {_shard} of job {_job}.");
    }

    private void CheckJob(MessageHeader header)
    {
        if (!string.Equals(header.Job, _job, StringComparison.Ordinal))
            throw new ArgumentException($"a message for job '{header.Job}' reached shard {_shard} of job '{_job}'.");
    }
}
