using Distributed.Grains.Abstractions.Messaging;
using Microsoft.Extensions.Hosting;

namespace Distributed.Client.Cluster;

/// <summary>
/// A connection to a cluster, whichever kind: an external client of a running cluster, or the embedded silo started
/// in this process. Commands use <see cref="Grains"/> and never care which.
/// </summary>
internal sealed class ClusterSession(IHost host, IClusterClient client, MessageLimits limits, string description, bool embedded) : IAsyncDisposable
{
    public IClusterClient Client { get; } = client;

    public IGrainFactory Grains => Client;

    /// <summary>The message limit the cluster was configured with; uploads chunk under it.</summary>
    public MessageLimits Limits { get; } = limits;

    /// <summary>For messages: "embedded silo", "localhost:30000", "redis://127.0.0.1:6379".</summary>
    public string Description { get; } = description;

    /// <summary>The cluster lives in this process and ends with it.</summary>
    public bool Embedded { get; } = embedded;

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await host.StopAsync(stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // A silo that cannot leave gracefully in 10 s is abandoned: the process is ending anyway.
        }
        host.Dispose();
    }
}
