using System.CommandLine;
using System.Globalization;

namespace Distributed.Grains.Hosting;

/// <summary>
/// The host flags shared by the Silo and the Client (System.CommandLine). Only flags given on the command line become
/// configuration overrides, so <c>appsettings.json</c> and the environment still apply to the rest.
/// </summary>
public sealed class HostingFlags
{
    private readonly List<(Option Option, string Key)> _mapped = [];

    private HostingFlags(bool silo)
    {
        Cluster = new Option<string>("--cluster") { Description = "Cluster to join: localhost, localhost:PORT or redis://HOST:PORT." };
        Settings = new Option<string>("--settings") { Description = "Extra JSON settings file (section \"Distributed\"), after appsettings.json." };
        Map(new Option<string>("--cluster-id") { Description = "Cluster id (silos and clients must agree). Default: distributed." }, nameof(DistributedHostOptions.ClusterId));
        Map(new Option<string>("--service-id") { Description = "Service id (keys grain state). Default: distributed." }, nameof(DistributedHostOptions.ServiceId));
        Map(new Option<int>("--gateway-port") { Description = "Gateway (client) port. Default: 30000." }, nameof(DistributedHostOptions.GatewayPort));
        Map(new Option<string>("--telemetry") { Description = "Traces and metrics exporter: none, console, otlp. Default: otlp if OTEL_EXPORTER_OTLP_ENDPOINT is set, else none." }, nameof(DistributedHostOptions.Telemetry));
        Map(new Option<bool>("--orleans-telemetry") { Description = "Also export Orleans' runtime spans and meter." }, nameof(DistributedHostOptions.OrleansTelemetry));
        Map(new Option<string>("--otlp-endpoint") { Description = "OTLP endpoint, e.g. http://127.0.0.1:4317 (else OTEL_EXPORTER_OTLP_ENDPOINT)." }, nameof(DistributedHostOptions.OtlpEndpoint));
        Map(new Option<int>("--max-message-bytes") { Description = "Largest message body; larger payloads are chunked. Default: 104857600." }, nameof(DistributedHostOptions.MaxMessageBytes));
        if (silo)
        {
            Map(new Option<string>("--clustering") { Description = "Membership: localhost or redis. Default: localhost." }, nameof(DistributedHostOptions.Clustering));
            Map(new Option<string>("--redis") { Description = "Redis connection string for clustering/storage, e.g. 127.0.0.1:6379." }, nameof(DistributedHostOptions.Redis));
            Map(new Option<int>("--silo-port") { Description = "Silo-to-silo port. Default: 11111." }, nameof(DistributedHostOptions.SiloPort));
            Map(new Option<int>("--primary-silo-port") { Description = "Localhost clustering: the primary silo's port. Default: 11111." }, nameof(DistributedHostOptions.PrimarySiloPort));
            Map(new Option<string>("--advertise") { Description = "IP address other silos and clients reach this silo at." }, nameof(DistributedHostOptions.AdvertisedAddress));
            Map(new Option<string>("--storage") { Description = "Grain storage: memory or redis. Default: memory." }, nameof(DistributedHostOptions.Storage));
            Map(new Option<string>("--data-root") { Description = "Absolute folder shards may read images from by path (every silo must see it)." }, nameof(DistributedHostOptions.DataRoot));
            Map(new Option<int>("--max-pixels") { Description = "Largest image a shard decodes, in pixels; a job can only lower it. Default: 16000000." }, nameof(DistributedHostOptions.MaxPixels));
            Map(new Option<int>("--compute-slots") { Description = "Numeric work items run at once on this silo. Default: one per core." }, nameof(DistributedHostOptions.ComputeSlots));
            Map(new Option<string>("--service-name") { Description = "service.name on telemetry. Default: distributed-silo." }, nameof(DistributedHostOptions.ServiceName));
            Map(new Option<string>("--instance-id") { Description = "service.instance.id on telemetry. Default: host and process id." }, nameof(DistributedHostOptions.InstanceId));
        }
        else
        {
            Map(new Option<int>("--connect-attempts") { Description = "Attempts to reach a gateway before giving up. Default: 5." }, nameof(DistributedHostOptions.ConnectAttempts));
        }
    }

    /// <summary>Every flag a silo takes.</summary>
    public static HostingFlags ForSilo() => new(silo: true);

    /// <summary>The flags a client takes to find (or embed) a cluster.</summary>
    public static HostingFlags ForClient() => new(silo: false);

    public Option<string> Cluster { get; }
    public Option<string> Settings { get; }

    public IEnumerable<Option> All => [Cluster, Settings, .. _mapped.Select(m => m.Option)];

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Option option in All) command.Options.Add(option);
    }

    /// <summary>The <c>--cluster</c> value, or null when not given.</summary>
    public ClusterAddress? ClusterAddress(ParseResult result) =>
        result.GetValue(Cluster) is { } text ? Hosting.ClusterAddress.Parse(text) : null;

    /// <summary>Configuration overrides for the flags given explicitly (the cluster shorthand first, then the rest).</summary>
    public Dictionary<string, string?> Overrides(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (ClusterAddress(result) is { Embedded: false } address)
            foreach (KeyValuePair<string, string?> pair in address.ToOverrides()) overrides[pair.Key] = pair.Value;
        foreach ((Option option, string key) in _mapped)
        {
            if (result.GetResult(option) is not { Implicit: false } given) continue;
            object? value = given.GetValueOrDefault<object?>();
            overrides[$"{DistributedHostOptions.Section}:{key}"] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }
        return overrides;
    }

    /// <summary>appsettings.json, environment, then the flags given: the options a host runs with, validated.</summary>
    public DistributedHostOptions Load(ParseResult result) =>
        HostOptionsLoader.Load(HostOptionsLoader.BuildConfiguration(Overrides(result), result.GetValue(Settings)));

    private void Map(Option option, string key) => _mapped.Add((option, key));
}
