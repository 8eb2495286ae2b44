using Distributed.Compute.Training;

namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// Where a message belongs: every message carries the job, layer, epoch and filter version it was sent for, so a
/// receiver can refuse a stale or misrouted message and a span can be tagged without looking inside. Layer and epoch
/// are −1 and the filter version null where they do not apply (uploads before training, job-level calls).
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.header")]
public readonly record struct MessageHeader
{
    [Id(0)] public string Job { get; init; }
    [Id(1)] public int Layer { get; init; }
    [Id(2)] public int Epoch { get; init; }
    [Id(4)] public FilterVersion? FilterVersion { get; init; }

    public MessageHeader(string job, int layer = -1, int epoch = -1, FilterVersion? filterVersion = null)
    {
        Job = job;
        Layer = layer;
        Epoch = epoch;
        FilterVersion = filterVersion;
    }

    /// <summary>A job-level header: no layer, epoch or filter version.</summary>
    public static MessageHeader ForJob(string job) => new(job);

    public override string ToString() => $"job {Job}, layer {Layer}, epoch {Epoch}, filters {FilterVersion?.ToString() ?? "none"}";
}
