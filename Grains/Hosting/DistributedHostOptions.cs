using System.Net;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Hosting;

/// <summary>How silos find each other (and clients find silos).</summary>
public enum ClusteringMode
{
    /// <summary>One machine: a fixed primary silo on loopback (the embedded default, local multi-silo runs).</summary>
    Localhost,

    /// <summary>Membership in Redis: any number of machines.</summary>
    Redis,
}

/// <summary>Where grain state (checkpoints, uploaded images) lives.</summary>
public enum StorageMode
{
    Memory,
    Redis,
}

/// <summary>Where traces and metrics go.</summary>
public enum TelemetryExporter
{
    None,
    Console,
    Otlp,
}

/// <summary>
/// Everything a silo or a client needs to join a cluster, with the defaults of a one-machine run. Bound from
/// <c>appsettings.json</c> (section <see cref="Section"/>), then environment variables (<c>Distributed__SiloPort</c>),
/// then command-line flags (<see cref="HostingFlags"/>), each overriding the one before.
/// </summary>
public sealed record DistributedHostOptions
{
    public const string Section = "Distributed";

    /// <summary>Membership: localhost (one machine) or redis (needs <see cref="Redis"/>).</summary>
    public ClusteringMode Clustering { get; init; } = ClusteringMode.Localhost;

    /// <summary>StackExchange.Redis connection string, e.g. <c>127.0.0.1:6379</c>; used by Redis clustering and storage.</summary>
    public string? Redis { get; init; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Client-to-silo (gateway) port; a client with localhost clustering connects here.</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>Localhost clustering: the primary silo's silo port, which every other local silo joins through.</summary>
    public int PrimarySiloPort { get; init; } = 11111;

    /// <summary>Redis clustering: the IP address other silos and clients reach this silo at (default: Orleans picks one).</summary>
    public string? AdvertisedAddress { get; init; }

    /// <summary>Silos and clients with the same cluster id form one cluster.</summary>
    public string ClusterId { get; init; } = "distributed";

    /// <summary>Stable across deployments: keys grain state and reminders.</summary>
    public string ServiceId { get; init; } = "distributed";

    /// <summary>Grain storage for checkpoints and images: memory (lost with the silo) or redis.</summary>
    public StorageMode Storage { get; init; } = StorageMode.Memory;

    /// <summary>Exporter for traces and metrics; unset: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, otherwise none.</summary>
    public TelemetryExporter? Telemetry { get; init; }

    /// <summary>Also export Orleans' runtime spans and meter (noisy; its grain-call spans are always on with telemetry).</summary>
    public bool OrleansTelemetry { get; init; }

    /// <summary>OTLP endpoint, e.g. <c>http://127.0.0.1:4317</c>; unset: OTEL_EXPORTER_OTLP_ENDPOINT or the exporter's default.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>service.name on the telemetry resource; unset: OTEL_SERVICE_NAME or <c>distributed-silo</c>/<c>distributed-client</c>.</summary>
    public string? ServiceName { get; init; }

    /// <summary>service.instance.id on the telemetry resource; unset: host name and process id.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Largest message body (Orleans' MaxMessageBodySize); senders chunk payloads above it.</summary>
    public int MaxMessageBytes { get; init; } = MessageLimits.DefaultMaxMessageBytes;

    /// <summary>The only folder shards may read images from by path (every silo must see it); unset: path loading refused.</summary>
    public string? DataRoot { get; init; }

    /// <summary>
    /// Largest image (width × height) a shard on this silo decodes, whatever a job asks; a job's own limit (the
    /// console's --max-pixels) can only lower it. Default: the console's default, 16 megapixels.
    /// </summary>
    public int MaxPixels { get; init; } = (int)Distributed.Compute.Imaging.ImageLoadOptions.Default.MaxPixels;

    /// <summary>Numeric work allowed to run at once on this silo; 0: one per core.</summary>
    public int ComputeSlots { get; init; }

    /// <summary>Client: attempts to reach a gateway before giving up (each waits <see cref="ConnectRetryDelaySeconds"/>).</summary>
    public int ConnectAttempts { get; init; } = 5;

    public double ConnectRetryDelaySeconds { get; init; } = 1;

    public MessageLimits MessageLimits => new(MaxMessageBytes);

    public int EffectiveComputeSlots => ComputeSlots > 0 ? ComputeSlots : Environment.ProcessorCount;

    public TelemetryExporter EffectiveTelemetry => Telemetry
        ?? (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")) ? TelemetryExporter.None : TelemetryExporter.Otlp);

    /// <summary>Throws <see cref="HostOptionsException"/> naming the first bad field and what is allowed.</summary>
    public DistributedHostOptions Validate()
    {
        if (!Enum.IsDefined(Clustering)) Fail("clustering", $"clustering = {Clustering}; allowed localhost, redis.");
        if (!Enum.IsDefined(Storage)) Fail("storage", $"storage = {Storage}; allowed memory, redis.");
        if (Telemetry is { } t && !Enum.IsDefined(t)) Fail("telemetry", $"telemetry = {t}; allowed none, console, otlp.");
        if ((Clustering == ClusteringMode.Redis || Storage == StorageMode.Redis) && string.IsNullOrWhiteSpace(Redis))
            Fail("redis", "redis clustering or storage needs a connection string (--redis 127.0.0.1:6379).");
        CheckPort("silo-port", SiloPort);
        CheckPort("gateway-port", GatewayPort);
        CheckPort("primary-silo-port", PrimarySiloPort);
        if (SiloPort == GatewayPort) Fail("gateway-port", $"gateway-port = {GatewayPort} equals silo-port; they need two ports.");
        if (AdvertisedAddress is { } a && !IPAddress.TryParse(a, out _)) Fail("advertise", $"advertise = '{a}'; allowed: an IP address.");
        CheckId("cluster-id", ClusterId);
        CheckId("service-id", ServiceId);
        if (OtlpEndpoint is { } e && !Uri.TryCreate(e, UriKind.Absolute, out _)) Fail("otlp-endpoint", $"otlp-endpoint = '{e}'; allowed: an absolute URI such as http://127.0.0.1:4317.");
        if (MaxMessageBytes < MessageLimits.MinimumMaxMessageBytes)
            Fail("max-message-bytes", $"max-message-bytes = {MaxMessageBytes}; allowed ≥ {MessageLimits.MinimumMaxMessageBytes}.");
        if (DataRoot is { } root && !Path.IsPathFullyQualified(root)) Fail("data-root", $"data-root = '{root}'; allowed: an absolute path.");
        if (MaxPixels < 1) Fail("max-pixels", $"max-pixels = {MaxPixels}; allowed ≥ 1 (pixels of the largest image a shard decodes).");
        if (ComputeSlots < 0 || ComputeSlots > 4096) Fail("compute-slots", $"compute-slots = {ComputeSlots}; allowed 0 (one per core) .. 4096.");
        if (ConnectAttempts < 1 || ConnectAttempts > 1000) Fail("connect-attempts", $"connect-attempts = {ConnectAttempts}; allowed 1..1000.");
        if (!(ConnectRetryDelaySeconds >= 0 && ConnectRetryDelaySeconds <= 60)) Fail("connect-retry-delay", $"connect-retry-delay = {ConnectRetryDelaySeconds}; allowed 0..60 seconds.");
        return this;
    }

    private static void CheckPort(string field, int port)
    {
        if (port < 1 || port > 65535) Fail(field, $"{field} = {port}; allowed 1..65535.");
    }

    private static void CheckId(string field, string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 128 || id.Any(char.IsWhiteSpace))
            Fail(field, $"{field} = '{id}'; allowed 1..128 characters without spaces.");
    }

    private static void Fail(string field, string message) => throw new HostOptionsException(message, field);
}

/// <summary>A bad host option; <see cref="Field"/> names the flag (without dashes).</summary>
public sealed class HostOptionsException(string message, string field) : ArgumentException(message)
{
    public string Field { get; } = field;
}
