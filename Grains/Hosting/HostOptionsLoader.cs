using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Distributed.Grains.Hosting;

/// <summary>
/// Builds <see cref="DistributedHostOptions"/> from layered configuration: <c>appsettings.json</c> (next to the program,
/// then in the working folder), environment variables (<c>Distributed__GatewayPort=30001</c>), then flag overrides.
/// Every value is parsed here, so a bad one is reported with the flag that sets it.
/// </summary>
public static class HostOptionsLoader
{
    /// <summary>The configuration sources in precedence order, flags last (winning).</summary>
    public static IConfiguration BuildConfiguration(IReadOnlyDictionary<string, string?>? flagOverrides = null, string? settingsFile = null)
    {
        var builder = new ConfigurationBuilder();
        string beside = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        string working = Path.Combine(Environment.CurrentDirectory, "appsettings.json");
        builder.AddJsonFile(beside, optional: true, reloadOnChange: false);
        if (!string.Equals(Path.GetFullPath(beside), Path.GetFullPath(working), StringComparison.Ordinal))
            builder.AddJsonFile(working, optional: true, reloadOnChange: false);
        if (settingsFile is not null)
        {
            if (!File.Exists(settingsFile)) throw new HostOptionsException($"settings file '{settingsFile}' does not exist.", "settings");
            builder.AddJsonFile(Path.GetFullPath(settingsFile), optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables();
        if (flagOverrides is not null) builder.AddInMemoryCollection(flagOverrides);
        return builder.Build();
    }

    /// <summary>Reads section <see cref="DistributedHostOptions.Section"/> over the defaults and validates the result.</summary>
    public static DistributedHostOptions Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection s = configuration.GetSection(DistributedHostOptions.Section);
        var d = new DistributedHostOptions();
        var options = new DistributedHostOptions
        {
            Clustering = Enum(s, nameof(d.Clustering), "clustering", d.Clustering),
            Redis = Text(s, nameof(d.Redis)) ?? d.Redis,
            SiloPort = Int(s, nameof(d.SiloPort), "silo-port", d.SiloPort),
            GatewayPort = Int(s, nameof(d.GatewayPort), "gateway-port", d.GatewayPort),
            PrimarySiloPort = Int(s, nameof(d.PrimarySiloPort), "primary-silo-port", d.PrimarySiloPort),
            AdvertisedAddress = Text(s, nameof(d.AdvertisedAddress)) ?? d.AdvertisedAddress,
            ClusterId = Text(s, nameof(d.ClusterId)) ?? d.ClusterId,
            ServiceId = Text(s, nameof(d.ServiceId)) ?? d.ServiceId,
            Storage = Enum(s, nameof(d.Storage), "storage", d.Storage),
            Telemetry = Text(s, nameof(d.Telemetry)) is null ? d.Telemetry : Enum(s, nameof(d.Telemetry), "telemetry", TelemetryExporter.None),
            OrleansTelemetry = Bool(s, nameof(d.OrleansTelemetry), "orleans-telemetry", d.OrleansTelemetry),
            OtlpEndpoint = Text(s, nameof(d.OtlpEndpoint)) ?? d.OtlpEndpoint,
            ServiceName = Text(s, nameof(d.ServiceName)) ?? d.ServiceName,
            InstanceId = Text(s, nameof(d.InstanceId)) ?? d.InstanceId,
            MaxMessageBytes = Int(s, nameof(d.MaxMessageBytes), "max-message-bytes", d.MaxMessageBytes),
            DataRoot = Text(s, nameof(d.DataRoot)) ?? d.DataRoot,
            MaxPixels = Int(s, nameof(d.MaxPixels), "max-pixels", d.MaxPixels),
            ComputeSlots = Int(s, nameof(d.ComputeSlots), "compute-slots", d.ComputeSlots),
            ConnectAttempts = Int(s, nameof(d.ConnectAttempts), "connect-attempts", d.ConnectAttempts),
            ConnectRetryDelaySeconds = Double(s, nameof(d.ConnectRetryDelaySeconds), "connect-retry-delay", d.ConnectRetryDelaySeconds),
        };
        return options.Validate();
    }

    private static string? Text(IConfigurationSection s, string key) => string.IsNullOrWhiteSpace(s[key]) ? null : s[key]!.Trim();

    private static int Int(IConfigurationSection s, string key, string flag, int fallback)
    {
        string? text = Text(s, key);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new HostOptionsException($"{flag} = '{text}'; allowed: an integer.", flag);
    }

    private static double Double(IConfigurationSection s, string key, string flag, double fallback)
    {
        string? text = Text(s, key);
        if (text is null) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new HostOptionsException($"{flag} = '{text}'; allowed: a number.", flag);
    }

    private static bool Bool(IConfigurationSection s, string key, string flag, bool fallback)
    {
        string? text = Text(s, key);
        if (text is null) return fallback;
        return bool.TryParse(text, out bool value)
            ? value
            : throw new HostOptionsException($"{flag} = '{text}'; allowed: true, false.", flag);
    }

    private static T Enum<T>(IConfigurationSection s, string key, string flag, T fallback) where T : struct, Enum
    {
        string? text = Text(s, key);
        if (text is null) return fallback;
        if (!int.TryParse(text, out _) && System.Enum.TryParse(text, ignoreCase: true, out T value)) return value;
        string allowed = string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        throw new HostOptionsException($"{flag} = '{text}'; allowed {allowed}.", flag);
    }
}
