using System.Diagnostics;
using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Grains.Tests.Telemetry;

/// <summary>One traced 2-layer job on the 3-silo cluster, read back through OpenTelemetry's in-memory exporters.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TracingTests(ClusterFixture fixture)
{
    private const string Job = "traced";
    private const int Images = 5, Epochs = 2, Layers = 2;

    [Fact]
    public async Task TrainAsync_TwoLayerJob_OneTraceFromClientToShardsOnSeveralSilosAndMetricsAddUp()
    {
        string[] files = TestImages.Write("traced", Images, size: 16, seed: 51);
        var spec = new TrainingSpec
        {
            Layers =
            [
                new LayerSpec { Maps = 8, FilterSize = 7, Epochs = Epochs },
                new LayerSpec { Maps = 4, FilterSize = 3, Epochs = Epochs, Connectivity = ConnectivityKind.Full },
            ],
            Seed = 9,
        };
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using (TracerProvider tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(TelemetryNames.Source, TelemetryNames.OrleansApplicationSource).AddInMemoryExporter(spans).Build())
        using (MeterProvider meter = Sdk.CreateMeterProviderBuilder().AddMeter(TelemetryNames.Source).AddInMemoryExporter(metrics).Build())
        {
            var engine = new DistributedEngine(fixture.Grains, ClusterFixture.Limits, 3, "test cluster") { JobId = Job };
            await engine.TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None)
                .WaitAsync(TimeSpan.FromMinutes(2));
            tracer.ForceFlush();
            meter.ForceFlush();
        }

        Activity[] ours = [.. spans.Where(s => Equals(s.GetTagItem(TelemetryNames.Tags.Job), Job))];
        Activity root = Assert.Single(ours, s => s.OperationName == TelemetryNames.Spans.Train);
        Activity[] strays = [.. ours.Where(s => s.TraceId != root.TraceId)];
        Assert.True(strays.Length == 0, $"{strays.Length} spans of the job left the client's trace: {string.Join(", ", strays.Select(s => s.OperationName).Distinct())}");

        var byId = spans.Where(s => s.TraceId == root.TraceId).ToDictionary(s => s.SpanId);
        bool Under(Activity span, Activity ancestor)
        {
            for (Activity? s = span; s is not null; s = byId.GetValueOrDefault(s.ParentSpanId))
                if (s.SpanId == ancestor.SpanId) return true;
            return false;
        }
        Activity job = Assert.Single(ours, s => s.OperationName == TelemetryNames.Spans.Job);
        Activity[] layers = [.. ours.Where(s => s.OperationName == TelemetryNames.Spans.Layer)];
        Activity[] epochs = [.. ours.Where(s => s.OperationName == TelemetryNames.Spans.Epoch)];
        Activity[] inference = [.. ours.Where(s => s.OperationName == TelemetryNames.Spans.InferShard)];
        Assert.True(Under(job, root), "the job span is not under the client's train span");
        Assert.Equal(Layers, layers.Length);
        Assert.All(layers, l => Assert.True(l.ParentSpanId == job.SpanId, $"layer span {l.GetTagItem(TelemetryNames.Tags.Layer)} is not a child of the job span"));
        // Each layer: its training epochs plus the final pass from z = 0 that hands maps to the next layer.
        Assert.Equal(Layers * (Epochs + 1), epochs.Length);
        Assert.All(epochs, e => Assert.Contains(layers, l => l.SpanId == e.ParentSpanId));
        Assert.Equal(Layers * (Epochs + 1) * 3, inference.Length);
        Assert.All(inference, s => Assert.True(epochs.Any(e => Under(s, e)), $"shard inference on {s.GetTagItem(TelemetryNames.Tags.Silo)} is not under an epoch span"));
        Assert.True(inference.Select(s => s.GetTagItem(TelemetryNames.Tags.Silo)).Distinct().Count() > 1, "shard inference ran on one silo only");
        Assert.Contains(ours, s => s.OperationName == TelemetryNames.Spans.FetchChunks);
        // The trainer's own phase hooks open these: one filter update per batch epoch, inside the epoch and after its
        // shard inference; one checkpoint per epoch, inside it and after the update; no update in the final passes.
        Activity[] updates = [.. ours.Where(s => s.OperationName == TelemetryNames.Spans.UpdateFilters)];
        Activity[] checkpoints = [.. ours.Where(s => s.OperationName == TelemetryNames.Spans.Checkpoint && s.GetTagItem(TelemetryNames.Tags.Shard) is null)];
        Assert.Equal(Layers * Epochs, updates.Length);
        Assert.Equal(Layers * Epochs, checkpoints.Length);
        Activity[] finals = [.. epochs.Where(e => Equals(e.GetTagItem(TelemetryNames.Tags.Final), true))];
        Assert.Equal(Layers, finals.Length);
        foreach (Activity epoch in epochs.Except(finals))
        {
            Activity update = Assert.Single(updates, u => u.ParentSpanId == epoch.SpanId);
            Activity checkpoint = Assert.Single(checkpoints, c => c.ParentSpanId == epoch.SpanId);
            Activity[] shardWork = [.. inference.Where(i => Under(i, epoch))];
            Assert.Equal(3, shardWork.Length);
            Assert.All(shardWork, i => Assert.True(i.StartTimeUtc + i.Duration <= update.StartTimeUtc, "a filter update began before its epoch's shard inference ended"));
            Assert.True(update.StartTimeUtc + update.Duration <= checkpoint.StartTimeUtc, "a checkpoint began before its epoch's filter update ended");
            Assert.True(epoch.GetTagItem(TelemetryNames.Tags.Objective) is double, "an epoch span lacks its objective");
        }
        Assert.All(finals, f => Assert.DoesNotContain(updates, u => u.ParentSpanId == f.SpanId));

        // The same phases as log lines, each naming the job.
        string[] lines = [.. LogRecorder.Instance.ForJob(Job).Select(e => e.Message)];
        Assert.Equal(Layers * Epochs, lines.Count(l => l.Contains(" epoch ", StringComparison.Ordinal) && l.Contains(": objective ", StringComparison.Ordinal)));
        Assert.Equal(Layers, lines.Count(l => l.Contains(" trained; final objective ", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith($"job {Job}: training {Images} images on 3 shards", StringComparison.Ordinal));

        Assert.Equal(Images * (Epochs + 1) * Layers, SumFor(metrics, TelemetryNames.Instruments.ImagesInferred));
        Assert.Equal(Layers * Epochs, SumFor(metrics, TelemetryNames.Instruments.EpochsCompleted));
        Assert.Equal(Layers * (Epochs + 1) * 3, CountFor(metrics, TelemetryNames.Instruments.ShardInferenceSeconds));
    }

    private static long SumFor(List<Metric> metrics, string name)
    {
        long sum = 0;
        foreach (Metric metric in metrics.Where(m => m.Name == name))
            foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
                if (IsOurs(point)) sum = Math.Max(sum, point.GetSumLong());
        return sum;
    }

    private static long CountFor(List<Metric> metrics, string name)
    {
        long count = 0;
        foreach (Metric metric in metrics.Where(m => m.Name == name))
            foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
                if (IsOurs(point)) count = Math.Max(count, point.GetHistogramCount());
        return count;
    }

    private static bool IsOurs(in MetricPoint point)
    {
        foreach (KeyValuePair<string, object?> tag in point.Tags)
            if (tag.Key == TelemetryNames.Tags.Job && Equals(tag.Value, Job)) return true;
        return false;
    }
}
