using System.Globalization;

namespace Distributed.Grains.Hosting;

/// <summary>
/// The <c>--cluster</c> shorthand: <c>localhost</c> or <c>localhost:30001</c> (a gateway on this machine),
/// <c>redis://host:port</c> (Redis membership; <c>redis://:password@host:port</c> for a password), or
/// <c>embedded</c> (the client starts its own silo in-process).
/// </summary>
public sealed record ClusterAddress(bool Embedded, ClusteringMode Clustering, string? Redis, int? GatewayPort)
{
    public const string EmbeddedName = "embedded";

    public static ClusterAddress EmbeddedSilo { get; } = new(true, ClusteringMode.Localhost, null, null);

    public static ClusterAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Equals(EmbeddedName, StringComparison.OrdinalIgnoreCase)) return EmbeddedSilo;
        if (t.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new(false, ClusteringMode.Localhost, null, null);
        if (t.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            if (int.TryParse(t["localhost:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535)
                return new(false, ClusteringMode.Localhost, null, port);
            throw Bad(text);
        }
        if (t.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            string rest = t["redis://".Length..].TrimEnd('/');
            string? password = null;
            int at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                string credentials = rest[..at];
                rest = rest[(at + 1)..];
                int colon = credentials.IndexOf(':');
                password = colon >= 0 ? credentials[(colon + 1)..] : credentials;
            }
            if (rest.Length == 0 || rest.Contains(',')) throw Bad(text);
            if (!rest.Contains(':')) rest += ":6379";
            string connection = string.IsNullOrEmpty(password) ? rest : $"{rest},password={password}";
            return new(false, ClusteringMode.Redis, connection, null);
        }
        throw Bad(text);
    }

    /// <summary>The configuration overrides this address stands for (keys under <see cref="DistributedHostOptions.Section"/>).</summary>
    public IEnumerable<KeyValuePair<string, string?>> ToOverrides()
    {
        const string s = DistributedHostOptions.Section;
        yield return new($"{s}:{nameof(DistributedHostOptions.Clustering)}", Clustering.ToString());
        if (Redis is not null) yield return new($"{s}:{nameof(DistributedHostOptions.Redis)}", Redis);
        if (GatewayPort is { } port) yield return new($"{s}:{nameof(DistributedHostOptions.GatewayPort)}", port.ToString(CultureInfo.InvariantCulture));
    }

    public override string ToString() => Embedded ? EmbeddedName
        : Clustering == ClusteringMode.Redis ? $"redis://{Redis?.Split(',')[0]}"
        : GatewayPort is { } p ? $"localhost:{p}" : "localhost";

    private static HostOptionsException Bad(string text) => new(
        $"cluster = '{text}'; allowed: embedded, localhost, localhost:PORT, redis://HOST:PORT.", "cluster");
}
