using System.CommandLine;
using Distributed.Grains.Hosting;
using Microsoft.Extensions.Configuration;

namespace Distributed.Grains.Tests.Hosting;

public sealed class HostOptionsTests
{
    [Fact]
    public void Load_JsonThenFlags_FlagsWinOverJsonAndJsonOverDefaults()
    {
        IConfiguration config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Distributed:SiloPort"] = "12000",
                ["Distributed:GatewayPort"] = "31000",
                ["Distributed:Storage"] = "Redis",
                ["Distributed:Redis"] = "10.0.0.5:6379",
            })
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Distributed:GatewayPort"] = "32000" })
            .Build();

        DistributedHostOptions options = HostOptionsLoader.Load(config);

        Assert.Equal(12000, options.SiloPort);
        Assert.Equal(32000, options.GatewayPort);
        Assert.Equal(StorageMode.Redis, options.Storage);
        Assert.Equal("10.0.0.5:6379", options.Redis);
        Assert.Equal("distributed", options.ClusterId);
    }

    [Theory]
    [InlineData("SiloPort", "0", "silo-port")]
    [InlineData("SiloPort", "eleven", "silo-port")]
    [InlineData("Clustering", "consul", "clustering")]
    [InlineData("Clustering", "redis", "redis")]
    [InlineData("Telemetry", "jaeger", "telemetry")]
    [InlineData("MaxMessageBytes", "1000", "max-message-bytes")]
    [InlineData("DataRoot", "relative/path", "data-root")]
    [InlineData("AdvertisedAddress", "not-an-ip", "advertise")]
    public void Load_BadValue_ThrowsNamingTheFlag(string key, string value, string field)
    {
        IConfiguration config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Distributed:{key}"] = value })
            .Build();

        var e = Assert.Throws<HostOptionsException>(() => HostOptionsLoader.Load(config));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Overrides_ClusterShorthandAndPort_OnlyGivenFlags()
    {
        HostingFlags flags = HostingFlags.ForSilo();
        var command = new RootCommand();
        flags.AddTo(command);

        Dictionary<string, string?> overrides = flags.Overrides(command.Parse(["--cluster", "redis://127.0.0.1:6380", "--silo-port", "11112"]));

        Assert.Equal("Redis", overrides["Distributed:Clustering"]);
        Assert.Equal("127.0.0.1:6380", overrides["Distributed:Redis"]);
        Assert.Equal("11112", overrides["Distributed:SiloPort"]);
        Assert.False(overrides.ContainsKey("Distributed:GatewayPort"), "a flag not given must not override appsettings.json");
        Assert.Equal(3, overrides.Count);
    }

    [Theory]
    [InlineData("embedded", true, ClusteringMode.Localhost, null, null)]
    [InlineData("localhost", false, ClusteringMode.Localhost, null, null)]
    [InlineData("localhost:30010", false, ClusteringMode.Localhost, null, 30010)]
    [InlineData("redis://10.1.2.3:6379", false, ClusteringMode.Redis, "10.1.2.3:6379", null)]
    [InlineData("redis://cache", false, ClusteringMode.Redis, "cache:6379", null)]
    [InlineData("redis://:s3cret@10.1.2.3:6379", false, ClusteringMode.Redis, "10.1.2.3:6379,password=s3cret", null)]
    public void Parse_ClusterShorthand_Address(string text, bool embedded, ClusteringMode clustering, string? redis, int? gateway)
    {
        ClusterAddress address = ClusterAddress.Parse(text);
        Assert.Equal(new ClusterAddress(embedded, clustering, redis, gateway), address);
    }

    [Theory]
    [InlineData("consul://x")]
    [InlineData("localhost:0")]
    [InlineData("localhost:http")]
    [InlineData("redis://")]
    public void Parse_BadClusterShorthand_ThrowsNamingCluster(string text)
    {
        var e = Assert.Throws<HostOptionsException>(() => ClusterAddress.Parse(text));
        Assert.Equal("cluster", e.Field);
    }
}
