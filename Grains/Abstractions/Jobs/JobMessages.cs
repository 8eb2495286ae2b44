using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Abstractions.Jobs;

[GenerateSerializer, Alias("distributed.job-state")]
public enum JobState
{
    /// <summary>No job under this id.</summary>
    Unknown,

    /// <summary>Accepted; waiting for its images to be uploaded and <see cref="ITrainingJobGrain.StartAsync"/>.</summary>
    Pending,

    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>A new job: the spec, where its images come from, and how many shards to spread them over.</summary>
[GenerateSerializer, Immutable, Alias("distributed.job-submission")]
public sealed record JobSubmission
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>The spec as JSON (<c>Messaging.Wire.SpecWire</c>).</summary>
    [Id(1)] public required string SpecJson { get; init; }

    /// <summary>Names of the images the client will upload, in global order; empty when <see cref="DataPath"/> is given.</summary>
    [Id(2)] public string[] ImageNames { get; init; } = [];

    /// <summary>A folder relative to the silos' data root whose images the shards read themselves.</summary>
    [Id(3)] public string? DataPath { get; init; }

    /// <summary>Shards to spread the images over; 0: one per active silo.</summary>
    [Id(4)] public int Shards { get; init; }

    /// <summary>How many of the first images get reconstructions in the result.</summary>
    [Id(5)] public int Reconstructions { get; init; }

    [Id(6)] public long MaxPixels { get; init; } = 16_000_000;
    [Id(7)] public long MaxFileBytes { get; init; } = 256L * 1024 * 1024;
}

/// <summary>The answer to a submission: accepted with its shard plan, or rejected with the offending field named.</summary>
[GenerateSerializer, Immutable, Alias("distributed.job-plan")]
public sealed record JobPlan
{
    [Id(0)] public required MessageHeader Header { get; init; }
    [Id(1)] public required bool Accepted { get; init; }
    [Id(2)] public string? Error { get; init; }

    /// <summary>The spec field or flag the error is about ("maps", "images", "epochs", …).</summary>
    [Id(3)] public string? Field { get; init; }

    /// <summary>Global image indices per shard, shard 0 first.</summary>
    [Id(4)] public int[][] Shards { get; init; } = [];

    /// <summary>Grain keys of the shards, in shard order.</summary>
    [Id(5)] public string[] ShardKeys { get; init; } = [];

    public static JobPlan Rejected(MessageHeader header, string error, string field) =>
        new() { Header = header, Accepted = false, Error = error, Field = field };
}

/// <summary>Where a job stands: what status, watch and list show.</summary>
[GenerateSerializer, Immutable, Alias("distributed.job-status")]
public sealed record JobStatus
{
    [Id(0)] public required string Job { get; init; }
    [Id(1)] public required JobState State { get; init; }

    /// <summary>1-based layer and epoch of the latest progress; 0 before the first.</summary>
    [Id(2)] public int Layer { get; init; }
    [Id(3)] public int Layers { get; init; }
    [Id(4)] public int Epoch { get; init; }
    [Id(5)] public int Epochs { get; init; }

    /// <summary>Completed share of all epochs (including each layer's final pass), 0..1.</summary>
    [Id(6)] public double Fraction { get; init; }

    /// <summary>Every epoch's metrics so far, in order.</summary>
    [Id(7)] public EpochMetricsMessage[] History { get; init; } = [];
    [Id(8)] public double ImagesPerSecond { get; init; }
    [Id(9)] public double ElapsedSeconds { get; init; }

    /// <summary>Estimated seconds left; null until an epoch has finished.</summary>
    [Id(10)] public double? RemainingSeconds { get; init; }
    [Id(11)] public int Images { get; init; }
    [Id(12)] public int Shards { get; init; }

    /// <summary>Why the job failed (Failed only), and the spec field when it is the spec's fault.</summary>
    [Id(13)] public string? Error { get; init; }
    [Id(14)] public string? ErrorField { get; init; }
    [Id(15)] public DateTimeOffset SubmittedUtc { get; init; }

    /// <summary>Bumped on every change; watchers wait for a newer one.</summary>
    [Id(16)] public long Revision { get; init; }

    public bool IsTerminal => State is JobState.Completed or JobState.Failed or JobState.Cancelled;

    public double? LatestObjective => History.Length == 0 ? null : History[^1].Objective;

    public static JobStatus Unknown(string job) => new() { Job = job, State = JobState.Unknown };
}

/// <summary>A trained layer on the wire.</summary>
[GenerateSerializer, Immutable, Alias("distributed.layer-result")]
public sealed record LayerResultMessage
{
    [Id(0)] public required int Layer { get; init; }
    [Id(1)] public required TensorBlob Filters { get; init; }
    [Id(2)] public required bool[] Connectivity { get; init; }
    [Id(3)] public required float InputScale { get; init; }
    [Id(4)] public required TotalsMessage Final { get; init; }
}

/// <summary>A finished job's result: what `fetch` and a finished `train` write to the output folder.</summary>
[GenerateSerializer, Immutable, Alias("distributed.job-result")]
public sealed record JobResult
{
    [Id(0)] public required string Job { get; init; }
    [Id(1)] public required string SpecJson { get; init; }
    [Id(2)] public required LayerResultMessage[] Layers { get; init; }
    [Id(3)] public required EpochMetricsMessage[] Metrics { get; init; }
    [Id(4)] public required double ElapsedSeconds { get; init; }
    [Id(5)] public required string[] ImageNames { get; init; }
    [Id(6)] public required ImageReportMessage[] Reports { get; init; }
    [Id(7)] public required DateTimeOffset CompletedUtc { get; init; }
}

/// <summary>One line of `list`.</summary>
[GenerateSerializer, Immutable, Alias("distributed.job-summary")]
public sealed record JobSummary
{
    [Id(0)] public required string Job { get; init; }
    [Id(1)] public required JobState State { get; init; }
    [Id(2)] public required DateTimeOffset SubmittedUtc { get; init; }
    [Id(3)] public int Images { get; init; }
    [Id(4)] public int Layer { get; init; }
    [Id(5)] public int Layers { get; init; }
    [Id(6)] public int Epoch { get; init; }
    [Id(7)] public int Epochs { get; init; }
    [Id(8)] public double? Objective { get; init; }

    public static JobSummary From(JobStatus s) => new()
    {
        Job = s.Job,
        State = s.State,
        SubmittedUtc = s.SubmittedUtc,
        Images = s.Images,
        Layer = s.Layer,
        Layers = s.Layers,
        Epoch = s.Epoch,
        Epochs = s.Epochs,
        Objective = s.LatestObjective,
    };
}
