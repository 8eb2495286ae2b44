using System.Net;
using System.Net.Sockets;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Hosting;
using Distributed.Grains.Hosting.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distributed.Client.Cluster;

/// <summary>
/// Opens a <see cref="ClusterSession"/>: the embedded default (a silo with localhost clustering inside this process,
/// on free ports so it never collides with a local cluster) or an external client of the cluster the options name.
/// Connecting is bounded by <see cref="DistributedHostOptions.ConnectAttempts"/>; failure is a
/// <see cref="ClusterUnreachableException"/> with one line for the user.
/// </summary>
internal static class ClusterConnector
{
    public static Task<ClusterSession> ConnectAsync(ClusterAddress address, DistributedHostOptions options, CancellationToken cancellationToken) =>
        address.Embedded ? StartEmbeddedAsync(options, cancellationToken) : ConnectExternalAsync(address, options, cancellationToken);

    public static async Task<ClusterSession> StartEmbeddedAsync(DistributedHostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        (int siloPort, int gatewayPort) = FreePorts();
        DistributedHostOptions embedded = options with
        {
            Clustering = ClusteringMode.Localhost,
            Storage = StorageMode.Memory,
            SiloPort = siloPort,
            GatewayPort = gatewayPort,
            PrimarySiloPort = siloPort,
            ClusterId = $"embedded-{Environment.ProcessId}",
            // The only client of an in-process silo is this process: its own --max-pixels is the limit.
            MaxPixels = int.MaxValue,
        };
        IHost host = SiloHost.Build(embedded, quiet: true);
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new ClusterUnreachableException($"could not start the embedded silo: {Innermost(e).Message}", e);
        }
        return new ClusterSession(host, host.Services.GetRequiredService<IClusterClient>(),
            host.Services.GetRequiredService<MessageLimits>(), "embedded silo", embedded: true);
    }

    public static async Task<ClusterSession> ConnectExternalAsync(ClusterAddress address, DistributedHostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // The client's own retries are reported by our one line; its logs would repeat them as stack traces.
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseDistributedClient(options));
        builder.Services.AddDistributedTelemetry(options, HostRole.Client);
        IHost host = builder.Build();
        string where = address.Clustering == ClusteringMode.Redis ? address.ToString() : $"localhost:{options.GatewayPort}";
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            string? refused = host.Services.GetService<SecretRefusals>()?.Last;
            host.Dispose();
            if (refused is not null)
                throw new ClusterUnreachableException($"the cluster at {where} refused this client: {refused} Give the cluster's secret with --secret-file or Distributed__Secret.", e);
            string hint = address.Clustering == ClusteringMode.Redis
                ? "is Redis up and a silo running with --cluster " + address + "?"
                : "is a silo running (dotnet run --project Silo)?";
            if (options.Secret is null) hint += " A cluster with a secret also needs --secret-file or Distributed__Secret.";
            throw new ClusterUnreachableException(
                $"cannot reach the cluster at {where} after {options.ConnectAttempts} attempt(s): {Reason(Innermost(e))} ({hint})", e);
        }
        return new ClusterSession(host, host.Services.GetRequiredService<IClusterClient>(),
            host.Services.GetRequiredService<MessageLimits>(), where, embedded: false);
    }

    internal static (int Silo, int Gateway) FreePorts()
    {
        using var a = new TcpListener(IPAddress.Loopback, 0);
        using var b = new TcpListener(IPAddress.Loopback, 0);
        a.Start();
        b.Start();
        return (((IPEndPoint)a.LocalEndpoint).Port, ((IPEndPoint)b.LocalEndpoint).Port);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        return e;
    }

    /// <summary>The cause in one line; Redis' message continues with advice about its own options, which is cut.</summary>
    private static string Reason(Exception e)
    {
        string text = OneLine(e.Message);
        int advice = text.IndexOf(" To allow this multiplexer", StringComparison.Ordinal);
        return advice > 0 ? text[..advice] : text;
    }

    private static string OneLine(string text)
    {
        string line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 300 ? line : line[..300] + "…";
    }
}
