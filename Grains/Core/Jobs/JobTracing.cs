using System.Diagnostics;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Telemetry;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The job → layer → epoch spans of one run. The training loop is Compute's and knows nothing of tracing, so the
/// spans open as the loop asks the workers for a new layer or epoch, and close when the next one begins (or the job
/// ends). The filter update between an epoch's fan-out and its checkpoint gets a span after the fact.
/// </summary>
internal sealed class JobTracing(string job, Activity? jobSpan) : IDisposable
{
    private readonly object _gate = new();
    private Activity? _layer;
    private Activity? _epoch;
    private (int Layer, int Epoch) _epochKey = (-1, -1);
    private DateTime? _fanOutEnded;

    public Activity? Job { get; } = jobSpan;

    /// <summary>The span shard calls should hang under: the open epoch, else the layer, else the job.</summary>
    public Activity? Current
    {
        get { lock (_gate) return _epoch ?? _layer ?? Job; }
    }

    public void BeginLayer(int layer)
    {
        lock (_gate)
        {
            if (_layer is not null && (int?)_layer.GetTagItem(TelemetryNames.Tags.Layer) == layer) return;
            StopEpoch();
            _layer?.Stop();
            _layer = Start(TelemetryNames.Spans.Layer, Job, new MessageHeader(job, layer));
        }
    }

    public void BeginEpoch(int layer, int epoch, long filterVersion)
    {
        lock (_gate)
        {
            if (_epochKey == (layer, epoch)) return;
            if (_layer is null || (int?)_layer.GetTagItem(TelemetryNames.Tags.Layer) != layer)
            {
                StopEpoch();
                _layer?.Stop();
                _layer = Start(TelemetryNames.Spans.Layer, Job, new MessageHeader(job, layer));
            }
            StopEpoch();
            _epoch = Start(TelemetryNames.Spans.Epoch, _layer, new MessageHeader(job, layer, epoch, filterVersion));
            _epochKey = (layer, epoch);
        }
    }

    public void FanOutEnded()
    {
        lock (_gate) _fanOutEnded = DateTime.UtcNow;
    }

    /// <summary>Records the filter update (from the end of the last fan-out until now) and opens the checkpoint span.</summary>
    public Activity? BeginCheckpoint(MessageHeader header, double objective, double nonzeroFraction)
    {
        lock (_gate)
        {
            Activity? parent = _epoch ?? _layer ?? Job;
            if (_fanOutEnded is { } since)
            {
                Activity? update = Start(TelemetryNames.Spans.UpdateFilters, parent, header, since);
                update?.Stop();
                _fanOutEnded = null;
            }
            _epoch?.SetTag(TelemetryNames.Tags.Objective, objective);
            _epoch?.SetTag(TelemetryNames.Tags.NonzeroFraction, nonzeroFraction);
            return Start(TelemetryNames.Spans.Checkpoint, parent, header);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            StopEpoch();
            _layer?.Stop();
            _layer = null;
        }
    }

    private void StopEpoch()
    {
        _epoch?.Stop();
        _epoch = null;
        _epochKey = (-1, -1);
    }

    private static Activity? Start(string name, Activity? parent, MessageHeader header, DateTime? startUtc = null)
    {
        Activity? activity = DistributedTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent?.Context ?? default, startTime: startUtc ?? default);
        return DistributedTelemetry.Tag(activity, header);
    }
}
