using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Hosting;
using Distributed.Grains.Messaging.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Distributed.Client.Bench;

/// <summary>
/// `bench large-image --silos 1 2 4`: the large photo trained on an in-process cluster of S silos (localhost
/// clustering, as the embedded engine, one process), its tiles spread over the silos as tile grains and driven by the
/// shard that owns the image. Counts what the owner and its tiles exchange (the process's tile telemetry): frames out
/// at the start of each solve, border moves each round, owned nonzeros back at the end.
/// </summary>
internal static class LargeImageCluster
{
    /// <summary>One run: its epochs, the rounds of tiled solves, and bytes by kind (open, step, collect), restarts, wall time.</summary>
    public sealed record Run(int Silos, IReadOnlyList<EpochMetrics> Epochs, long Rounds, long OpenBytes, long StepBytes, long CollectBytes, long Restarts, double WallSeconds);

    /// <summary>
    /// Writes <paramref name="image"/> (one plane in [0, 1]) as a 16-bit binary PGM, so the cluster's shards and the
    /// serial reference read the same samples (to 1/65535) from the same file.
    /// </summary>
    public static string WritePgm(Tensor3 image, string folder)
    {
        ArgumentNullException.ThrowIfNull(image);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "mosaic.pgm");
        using var stream = File.Create(path);
        stream.Write(Encoding.ASCII.GetBytes($"P5\n{image.Cols} {image.Rows}\n65535\n"));
        var row = new byte[2 * image.Cols];
        for (int i = 0; i < image.Rows; i++)
        {
            for (int j = 0; j < image.Cols; j++)
            {
                int v = (int)Math.Round(Math.Clamp(image[0, i, j], 0f, 1f) * 65535.0);
                row[2 * j] = (byte)(v >> 8);
                row[2 * j + 1] = (byte)v;
            }
            stream.Write(row);
        }
        return path;
    }

    /// <summary>Trains <paramref name="spec"/> on <paramref name="file"/> on a fresh in-process cluster of <paramref name="silos"/> silos with <paramref name="slots"/> compute slots each.</summary>
    public static async Task<Run> TrainAsync(TrainingSpec spec, string file, int silos, int slots, CancellationToken cancellationToken)
    {
        var hosts = new List<IHost>();
        using var counters = new TileCounters();
        try
        {
            (int primary, _) = ClusterConnector.FreePorts();
            for (int s = 0; s < silos; s++)
            {
                (int siloPort, int gatewayPort) = s == 0 ? (primary, ClusterConnector.FreePorts().Gateway) : ClusterConnector.FreePorts();
                var options = new DistributedHostOptions
                {
                    Clustering = ClusteringMode.Localhost,
                    Storage = StorageMode.Memory,
                    SiloPort = siloPort,
                    GatewayPort = gatewayPort,
                    PrimarySiloPort = primary,
                    ClusterId = $"bench-large-{Environment.ProcessId}-{silos}",
                    MaxPixels = int.MaxValue,
                    ComputeSlots = slots,
                };
                IHost host = SiloHost.Build(options, quiet: true);
                hosts.Add(host);
                await host.StartAsync(cancellationToken);
            }
            IClusterClient client = hosts[0].Services.GetRequiredService<IClusterClient>();
            // Tiles are placed over the silos the placing silo knows to be active: wait until every one is.
            var management = client.GetGrain<IManagementGrain>(0);
#pragma warning disable CA2016 // GetHosts takes no token; the wait is bounded by the cancellable delay
            while ((await management.GetHosts(onlyActive: true)).Count < silos) await Task.Delay(100, cancellationToken);
#pragma warning restore CA2016
            var engine = new DistributedEngine(client, hosts[0].Services.GetRequiredService<MessageLimits>(), shards: 1, $"{silos} in-process silos");
            var clock = Stopwatch.StartNew();
            EngineRun run = await engine.TrainAsync(spec, new ImageInput([file], ImageLoadOptions.Default, 0), new Silent(), cancellationToken);
            return new Run(silos, run.Result.Metrics, counters.Rounds, counters.Bytes("open"), counters.Bytes("step"), counters.Bytes("collect"), counters.Restarts, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            for (int s = hosts.Count - 1; s >= 0; s--)
            {
                await hosts[s].StopAsync(CancellationToken.None);
                hosts[s].Dispose();
            }
        }
    }

    private sealed class Silent : ITrainingObserver
    {
        public void OnProgress(TrainingProgress progress)
        {
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>The process's tile instruments, summed while listening.</summary>
    private sealed class TileCounters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
        private long _rounds, _restarts;

        public TileCounters()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name is TelemetryNames.Instruments.TileBytes or TelemetryNames.Instruments.TileRounds or TelemetryNames.Instruments.TileRestarts)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                switch (instrument.Name)
                {
                    case TelemetryNames.Instruments.TileRounds: Interlocked.Add(ref _rounds, value); break;
                    case TelemetryNames.Instruments.TileRestarts: Interlocked.Add(ref _restarts, value); break;
                    default:
                        string kind = "";
                        foreach (KeyValuePair<string, object?> tag in tags)
                            if (tag.Key == TelemetryNames.Tags.TileKind) kind = tag.Value as string ?? "";
                        lock (_bytes) _bytes[kind] = _bytes.GetValueOrDefault(kind) + value;
                        break;
                }
            });
            _listener.Start();
        }

        public long Rounds => Interlocked.Read(ref _rounds);

        public long Restarts => Interlocked.Read(ref _restarts);

        public long Bytes(string kind)
        {
            lock (_bytes) return _bytes.GetValueOrDefault(kind);
        }

        public void Dispose() => _listener.Dispose();
    }
}
