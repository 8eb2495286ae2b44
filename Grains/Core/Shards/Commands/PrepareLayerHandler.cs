using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Shards.Protocol;

namespace Distributed.Grains.Shards.Commands;

/// <summary>Builds a layer's inputs on a shard: <see cref="ImageShard.PrepareLayer"/>.</summary>
internal sealed class PrepareLayerHandler : ShardCommandHandler<PrepareLayerRequest, LayerInputSummary, PrepareLayerCommand, LayerInputReply>
{
    public override string Operation => TelemetryNames.Spans.PrepareLayer;

    protected override MessageHeader HeaderFor(PrepareLayerRequest request, string job) => new(job, request.Layer);

    protected override async Task<PrepareLayerCommand> ToCommandAsync(PrepareLayerRequest request, CommandWriter writer) => new()
    {
        Header = writer.Header,
        Frozen = await writer.FrozenAsync(request.Frozen),
    };

    protected override PrepareLayerRequest ToRequest(PrepareLayerCommand command, CommandReader reader) =>
        new(command.Header.Layer, reader.Frozen(command.Frozen));

    protected override LayerInputReply ToReply(LayerInputSummary result, ReplyWriter writer) => new()
    {
        Images = result.Images, SumSquares = result.SumSquares, Values = result.Values, Planes = result.Planes,
    };

    protected override Task<LayerInputSummary> FromReplyAsync(LayerInputReply reply, ReplyReader reader) =>
        Task.FromResult(new LayerInputSummary(reply.Shard, reply.Images, reply.SumSquares, reply.Values, reply.Planes));
}
