using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Execution;
using Distributed.Grains.Hosting;
using Distributed.Grains.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Distributed.Grains.Tests.Cluster;

/// <summary>
/// One 3-silo in-memory TestingHost cluster per test collection, configured by the same Hosting extensions the Silo
/// and Client use. The message limit is small on purpose, so anything a test sends that is not chunked fails loudly.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int Silos = 3;

    /// <summary>256 KiB: well above Orleans' own messages, well below a test's big payloads.</summary>
    public const int MaxMessageBytes = 256 * 1024;

    public static DistributedHostOptions Options { get; } = new()
    {
        MaxMessageBytes = MaxMessageBytes,
        ComputeSlots = 1,
        DataRoot = TestImages.Root,
        Storage = StorageMode.Memory,
    };

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public static MessageLimits Limits { get; } = new(MaxMessageBytes);

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(Silos);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddSingleton<IShardWorkGate>(TestShardGate.Instance);
            siloBuilder.Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(LogRecorder.Instance);
            siloBuilder.AddDistributedRuntime(Options);
            siloBuilder.UseInMemoryReminderService();
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddDistributedClientRuntime(Options);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "3-silo cluster";
}
