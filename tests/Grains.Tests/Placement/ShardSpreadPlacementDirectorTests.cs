using System.Net;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Tiles;
using Distributed.Grains.Placement;

namespace Distributed.Grains.Tests.Placement;

public sealed class ShardSpreadPlacementDirectorTests
{
    private static readonly SiloAddress[] Silos =
        [.. new[] { 11113, 11111, 11112 }.Select(port => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1))];

    [Fact]
    public void Choose_ShardIndices_IndexModSiloCountInAddressOrder()
    {
        int[] ports = [.. Enumerable.Range(0, 7).Select(i => ShardSpreadPlacementDirector.Choose($"job-a/{i}", Silos).Endpoint.Port)];
        Assert.Equal([11111, 11112, 11113, 11111, 11112, 11113, 11111], ports);
    }

    [Fact]
    public void Choose_SameKeyAnySiloOrder_SameSilo()
    {
        SiloAddress[] reversed = [.. Silos.Reverse()];
        Assert.Equal(ShardSpreadPlacementDirector.Choose("job-b/5", Silos), ShardSpreadPlacementDirector.Choose("job-b/5", reversed));
    }

    [Fact]
    public void Choose_TilesOfOneShard_SpreadFromTheOwnersSilo()
    {
        Guid solve = Guid.NewGuid();
        int[] ports = [.. Enumerable.Range(0, 4).Select(t => ShardSpreadPlacementDirector.Choose(TileKey.Format("job-c", 1, solve, t), Silos).Endpoint.Port)];
        Assert.Equal([11112, 11113, 11111, 11112], ports);
    }

    [Fact]
    public void TileKey_Format_ParsesBackAndIsNoShardKey()
    {
        string key = TileKey.Format("job-d", 12, Guid.NewGuid(), 7);
        Assert.True(TileKey.TryParse(key, out string job, out int shard, out int tile));
        Assert.Equal(("job-d", 12, 7), (job, shard, tile));
        Assert.False(ShardKey.TryParse(key, out _, out _));
        Assert.False(TileKey.TryParse("job-d/12", out _, out _, out _));
    }
}
