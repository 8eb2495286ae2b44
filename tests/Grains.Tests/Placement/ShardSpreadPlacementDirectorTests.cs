using System.Net;
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
}
