using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Jobs;

/// <summary>
/// A coordinator's persisted state: the submission, the shard plan, progress, the latest checkpoint of the training
/// loop (enough to resume it), and the result once complete. Tensors are inline payloads: the record is written as a
/// chunked blob, never as one message.
/// </summary>
[GenerateSerializer, Alias("distributed.job-record")]
public sealed class JobRecord
{
    [Id(0)] public JobState State { get; set; }
    [Id(1)] public string SpecJson { get; set; } = "";
    [Id(2)] public string[] ImageNames { get; set; } = [];
    [Id(3)] public string? DataPath { get; set; }
    [Id(4)] public int[][] Shards { get; set; } = [];
    [Id(5)] public int Reconstructions { get; set; }
    [Id(6)] public long MaxPixels { get; set; }
    [Id(7)] public long MaxFileBytes { get; set; }
    [Id(8)] public DateTimeOffset SubmittedUtc { get; set; }
    [Id(9)] public string? Error { get; set; }
    [Id(10)] public string? ErrorField { get; set; }
    [Id(11)] public int InputPlanes { get; set; }
    [Id(12)] public List<EpochMetricsMessage> Metrics { get; set; } = [];
    [Id(13)] public CheckpointRecord? Checkpoint { get; set; }
    [Id(14)] public LayerResultMessage[] Layers { get; set; } = [];
    [Id(15)] public ImageReportMessage[] Reports { get; set; } = [];
    [Id(16)] public double ElapsedSeconds { get; set; }
    [Id(17)] public DateTimeOffset? CompletedUtc { get; set; }
}

/// <summary>Compute's <c>TrainingCheckpoint</c>, stored: where to resume the loop.</summary>
[GenerateSerializer, Alias("distributed.checkpoint-record")]
public sealed class CheckpointRecord
{
    [Id(0)] public int Layer { get; set; }
    [Id(1)] public int NextEpoch { get; set; }
    [Id(2)] public TensorBlob Filters { get; set; } = null!;
    [Id(4)] public float InputScale { get; set; }
    [Id(5)] public LayerResultMessage[] Completed { get; set; } = [];

    /// <summary>Id 3 held the old arithmetic version (a long); a record stored with it reads as the layer's first
    /// version, which only keys the shards' caches, empty on a resumed job's fresh activations.</summary>
    [Id(6)] public FilterVersion FilterVersion { get; set; }

    /// <summary>Minibatch's running A ([pairs, s², s²]) and b, Σ‖y‖² and image count; null in the other schedules.</summary>
    [Id(7)] public TensorBlob? RunningGram { get; set; }
    [Id(8)] public TensorBlob? RunningB { get; set; }
    [Id(9)] public double RunningSumSquares { get; set; }
    [Id(10)] public long RunningImages { get; set; }

    /// <summary>The projected filter solver's power-iteration state (null for CG).</summary>
    [Id(11)] public TensorBlob? Eigenvector { get; set; }
}
