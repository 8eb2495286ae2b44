using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Telemetry;

/// <summary>
/// The product's ActivitySource and Meter and its instruments. Exporters are chosen by the host (Grains/Hosting);
/// without a listener every call here costs a branch.
/// </summary>
public static class DistributedTelemetry
{
    public static readonly ActivitySource Source = new(TelemetryNames.Source);

    public static readonly Meter Meter = new(TelemetryNames.Source);

    /// <summary>Images whose maps were inferred, summed over epochs and layers.</summary>
    public static readonly Counter<long> ImagesInferred =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.ImagesInferred, "{image}", "Images whose feature maps were inferred.");

    public static readonly Counter<long> EpochsCompleted =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.EpochsCompleted, "{epoch}", "Epochs completed, over all layers and jobs.");

    /// <summary>Payload bytes (tensors, images, statistics) put on the wire by senders of this process.</summary>
    public static readonly Counter<long> BytesSent =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.BytesSent, "By", "Payload bytes sent in grain messages.");

    /// <summary>
    /// Bytes a tiled solve's owner exchanged with its tiles, tagged <c>distributed.tile.kind</c>: open (frames out),
    /// step (border moves both ways, with each round's fixed fields), collect (owned maps back).
    /// </summary>
    public static readonly Counter<long> TileBytes =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.TileBytes, "By", "Bytes exchanged between a tiled solve's owner and its tiles.");

    /// <summary>Rounds of tiled solves driven over tile grains (one message to every tile each).</summary>
    public static readonly Counter<long> TileRounds =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.TileRounds, "{round}", "Rounds of tiled coordinate-descent solves over tile grains.");

    /// <summary>Tiled solves started again over fresh tiles after one was lost (its silo or activation gone).</summary>
    public static readonly Counter<long> TileRestarts =
        Meter.CreateCounter<long>(TelemetryNames.Instruments.TileRestarts, "{solve}", "Tiled solves restarted from their warm start after a tile was lost.");

    public static readonly Histogram<double> ShardInferenceSeconds =
        Meter.CreateHistogram<double>(TelemetryNames.Instruments.ShardInferenceSeconds, "s", "Wall time of one shard's inference pass.");

    public static readonly Histogram<double> ReduceSeconds =
        Meter.CreateHistogram<double>(TelemetryNames.Instruments.ReduceSeconds, "s", "Wall time to reduce the shards' statistics.");

    private static readonly ConcurrentDictionary<string, JobGaugeValues> Jobs = new(StringComparer.Ordinal);

    static DistributedTelemetry()
    {
        Meter.CreateObservableGauge(TelemetryNames.Instruments.Objective, () => Observe(v => v.Objective), description: "Latest epoch objective per job.");
        Meter.CreateObservableGauge(TelemetryNames.Instruments.NonzeroFraction, () => Observe(v => v.NonzeroFraction), description: "Latest nonzero fraction of the maps per job.");
    }

    /// <summary>Publishes a job's latest objective and nonzero fraction to the observable gauges.</summary>
    public static void SetJobGauges(string job, double objective, double nonzeroFraction) =>
        Jobs[job] = new JobGaugeValues(objective, nonzeroFraction);

    /// <summary>Stops reporting a job (finished, failed or deactivated).</summary>
    public static void ClearJobGauges(string job) => Jobs.TryRemove(job, out _);

    /// <summary>Starts a span tagged with the job, layer and epoch (−1 where not applicable).</summary>
    public static Activity? StartSpan(string name, MessageHeader header, ActivityKind kind = ActivityKind.Internal)
    {
        return Tag(Source.StartActivity(name, kind), header);
    }

    /// <summary>Tags a span (if one was started) with the job, and the layer, epoch and filter version where they apply.</summary>
    public static Activity? Tag(Activity? activity, MessageHeader header)
    {
        if (activity is null) return null;
        activity.SetTag(TelemetryNames.Tags.Job, header.Job);
        if (header.Layer >= 0) activity.SetTag(TelemetryNames.Tags.Layer, header.Layer);
        if (header.Epoch >= 0) activity.SetTag(TelemetryNames.Tags.Epoch, header.Epoch);
        if (header.FilterVersion is { } version) activity.SetTag(TelemetryNames.Tags.FilterVersion, version.ToString());
        return activity;
    }

    private static IEnumerable<Measurement<double>> Observe(Func<JobGaugeValues, double> pick)
    {
        foreach (KeyValuePair<string, JobGaugeValues> job in Jobs)
            yield return new Measurement<double>(pick(job.Value), new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, job.Key));
    }

    private readonly record struct JobGaugeValues(double Objective, double NonzeroFraction);
}
