using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Tests.Cluster;

namespace Distributed.Grains.Tests.Placement;

[Collection(ClusterCollection.Name)]
public sealed class ShardPlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ShardGrains_SixShardsOnThreeSilos_TwoPerSilo()
    {
        const string job = "placement-six";
        var header = MessageHeader.ForJob(job);
        ShardDescription[] shards = await Task.WhenAll(Enumerable.Range(0, 6)
            .Select(i => fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, i)).DescribeAsync(header)));

        var perSilo = shards.GroupBy(s => s.Silo).ToDictionary(g => g.Key, g => g.Select(s => s.Shard).Order().ToArray());
        string layout = string.Join("; ", perSilo.Select(p => $"{p.Key}: [{string.Join(", ", p.Value)}]"));
        Assert.True(perSilo.Count == ClusterFixture.Silos, $"shards landed on {perSilo.Count} silos, expected {ClusterFixture.Silos}: {layout}");
        Assert.All(perSilo, p => Assert.True(p.Value.Length == 2, $"silo {p.Key} got shards [{string.Join(", ", p.Value)}], expected 2: {layout}"));
        // index mod 3: shards i and i + 3 share a silo.
        Assert.All(perSilo, p => Assert.Equal(p.Value[0] + 3, p.Value[1]));
    }
}
