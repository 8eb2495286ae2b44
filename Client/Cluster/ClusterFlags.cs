using System.CommandLine;
using Distributed.Client.Commands;
using Distributed.Grains.Hosting;

namespace Distributed.Client.Cluster;

/// <summary>
/// The flags that find a cluster (<c>--cluster</c> and the rest of <see cref="HostingFlags.ForClient"/>) and open a
/// session on it, with every failure turned into one line for the user (<see cref="UserException"/>).
/// </summary>
internal sealed class ClusterFlags
{
    public HostingFlags Flags { get; } = HostingFlags.ForClient();

    /// <summary>Shards for a new job (train only).</summary>
    public Option<int> Shards { get; } = new("--shards") { Description = "Distributed engine: shards to spread the images over (0: one per silo).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command) => Flags.AddTo(command);

    /// <summary>`train --engine distributed`: a cluster (<c>--cluster</c>) or, by default, an embedded silo.</summary>
    public async Task<DistributedEngine> CreateEngineAsync(ParseResult result, CancellationToken cancellationToken) =>
        new(await ConnectAsync(result, ClusterAddress.EmbeddedSilo, cancellationToken), result.GetValue(Shards));

    /// <summary>
    /// Connects to the cluster the flags name; without <c>--cluster</c>, to <paramref name="fallback"/> (the embedded
    /// silo for `train`, the local gateway for the job commands).
    /// </summary>
    public async Task<ClusterSession> ConnectAsync(ParseResult result, ClusterAddress fallback, CancellationToken cancellationToken)
    {
        try
        {
            ClusterAddress address = Flags.ClusterAddress(result) ?? fallback;
            DistributedHostOptions options = Flags.Load(result);
            return await ClusterConnector.ConnectAsync(address, options, cancellationToken);
        }
        catch (HostOptionsException e)
        {
            throw new UserException(e.Message, e);
        }
        catch (ClusterUnreachableException e)
        {
            throw new UserException(e.Message, e);
        }
    }

    /// <summary>The cluster a job command talks to: one that outlives this process (an embedded one would be empty).</summary>
    public Task<ClusterSession> ConnectToRunningAsync(ParseResult result, CancellationToken cancellationToken)
    {
        ClusterAddress? address;
        try
        {
            address = Flags.ClusterAddress(result);
        }
        catch (HostOptionsException e)
        {
            throw new UserException(e.Message, e);
        }
        if (address is { Embedded: true })
            throw new UserException("--cluster embedded has no jobs: an embedded silo lives only inside its `train`; name a running cluster (localhost, redis://HOST:PORT).");
        return ConnectAsync(result, ClusterAddress.Parse("localhost"), cancellationToken);
    }
}
