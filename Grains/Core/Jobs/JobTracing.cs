using System.Diagnostics;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The job → layer → epoch → filter-update spans of one run, opened and closed by the trainer's own phase hooks
/// (<see cref="ITrainingObserver"/>), so each span covers exactly its phase. Shard calls hang under
/// <see cref="Current"/>: the open filter update (matrix-free updates call the shards), else the epoch, else the layer.
/// </summary>
internal sealed class JobTracing(string job, Activity? jobSpan) : IDisposable
{
    private readonly Lock _gate = new();
    private Activity? _layer;
    private Activity? _epoch;
    private Activity? _update;

    public Activity? Job { get; } = jobSpan;

    /// <summary>The span shard calls should hang under: the open filter update, else the epoch, else the layer, else the job.</summary>
    public Activity? Current
    {
        get
        {
            lock (_gate) return _update ?? _epoch ?? _layer ?? Job;
        }
    }

    public void LayerStarted(int layer)
    {
        lock (_gate)
        {
            StopLayer();
            _layer = Start(TelemetryNames.Spans.Layer, Job, new MessageHeader(job, layer));
        }
    }

    public void LayerEnded()
    {
        lock (_gate) StopLayer();
    }

    public void EpochStarted(EpochPhase phase)
    {
        lock (_gate)
        {
            StopEpoch();
            _epoch = Start(TelemetryNames.Spans.Epoch, _layer ?? Job, new MessageHeader(job, phase.Layer, phase.Epoch, phase.FilterVersion));
            if (phase.Final) _epoch?.SetTag(TelemetryNames.Tags.Final, true);
        }
    }

    public void EpochEnded(EpochMetrics? metrics)
    {
        lock (_gate)
        {
            if (metrics is not null)
            {
                _epoch?.SetTag(TelemetryNames.Tags.Objective, metrics.Objective);
                _epoch?.SetTag(TelemetryNames.Tags.NonzeroFraction, metrics.NonzeroFraction);
            }
            StopEpoch();
        }
    }

    public void FilterUpdateStarted(FilterUpdatePhase phase)
    {
        lock (_gate)
        {
            _update?.Stop();
            _update = Start(TelemetryNames.Spans.UpdateFilters, _epoch ?? _layer ?? Job, new MessageHeader(job, phase.Layer, phase.Epoch, phase.FilterVersion));
            if (phase.Image is { } image) _update?.SetTag(TelemetryNames.Tags.Image, image);
        }
    }

    public void FilterUpdateEnded()
    {
        lock (_gate)
        {
            _update?.Stop();
            _update = null;
        }
    }

    /// <summary>The span of saving a checkpoint, under the epoch it closes.</summary>
    public Activity? BeginCheckpoint(MessageHeader header)
    {
        lock (_gate) return Start(TelemetryNames.Spans.Checkpoint, _epoch ?? _layer ?? Job, header);
    }

    public void Dispose()
    {
        lock (_gate) StopLayer();
    }

    private void StopLayer()
    {
        StopEpoch();
        _layer?.Stop();
        _layer = null;
    }

    private void StopEpoch()
    {
        _update?.Stop();
        _update = null;
        _epoch?.Stop();
        _epoch = null;
    }

    private static Activity? Start(string name, Activity? parent, MessageHeader header)
    {
        Activity? activity = DistributedTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent?.Context ?? default);
        return DistributedTelemetry.Tag(activity, header);
    }
}
