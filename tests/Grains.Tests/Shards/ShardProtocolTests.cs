using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Shards.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Distributed.Grains.Tests.Shards;

public sealed class ShardProtocolTests
{
    [Fact]
    public void Commands_EveryWireCommand_HasExactlyOneHandler()
    {
        Type[] commands = [.. typeof(ShardCommand).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ShardCommand)) && !t.IsAbstract)];
        Assert.NotEmpty(commands);
        Assert.Equal(commands.OrderBy(t => t.Name), ShardProtocol.Commands.OrderBy(t => t.Name));
    }

    [Fact]
    public void ForRequest_EveryComputeRequest_FindsItsCodec()
    {
        var filters = new Distributed.Compute.Tensors.FilterBank(1, 1, 3);
        Assert.NotNull(ShardProtocol.ForRequest(new PrepareLayerRequest(0, [])));
        Assert.NotNull(ShardProtocol.ForRequest(new InferRequest(0, 0, new FilterVersion(0, 0), filters, 1, [], null, FilterStatistics.None)));
        Assert.NotNull(ShardProtocol.ForRequest(new GramRequest(0, 0, new FilterVersion(0, 0), filters)));
        Assert.NotNull(ShardProtocol.ForRequest(new ReportRequest([], [0], false)));
        Assert.NotNull(ShardProtocol.ForRequest(new ExtractRequest([], [0], null, false, [])));
    }

    [Theory]
    [InlineData(FilterStatistics.None)]
    [InlineData(FilterStatistics.NormalEquations)]
    [InlineData(FilterStatistics.RightHandSide)]
    public void Serializer_InferCommand_RoundTripsEnumAndFilterVersion(FilterStatistics statistics)
    {
        using ServiceProvider services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(ShardCommand).Assembly)).BuildServiceProvider();
        Serializer serializer = services.GetRequiredService<Serializer>();
        var command = new InferCommand
        {
            Header = new MessageHeader("wire", 1, 2148, new FilterVersion(1, 2148, 1_000_003)),
            Frozen = [],
            Filters = new TensorBlob { Shape = [1, 1, 1, 1], Data = Payload.FromInline(new byte[4]) },
            InputScale = 2,
            Statistics = statistics,
            ColdStart = true,
        };
        ShardCommand? back = serializer.Deserialize<ShardCommand>(serializer.SerializeToArray<ShardCommand>(command));
        InferCommand infer = Assert.IsType<InferCommand>(back);
        Assert.Equal(statistics, infer.Statistics);
        Assert.Equal(command.Header, infer.Header);
        Assert.Equal(FilterVersion.Frozen(3), serializer.Deserialize<MessageHeader>(serializer.SerializeToArray(new MessageHeader("wire", 3, -1, FilterVersion.Frozen(3)))).FilterVersion);
        Assert.Null(serializer.Deserialize<MessageHeader>(serializer.SerializeToArray(MessageHeader.ForJob("wire"))).FilterVersion);
    }
}
