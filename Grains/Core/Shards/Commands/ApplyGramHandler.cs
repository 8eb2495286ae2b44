using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Shards.Protocol;

namespace Distributed.Grains.Shards.Commands;

/// <summary>A shard's Σ_i Z_iᵀ Z_i d for the matrix-free filter update: <see cref="ImageShard.ApplyGram"/>.</summary>
internal sealed class ApplyGramHandler : ShardCommandHandler<GramRequest, FilterProduct, ApplyGramCommand, GramReply>
{
    public override string Operation => TelemetryNames.Spans.ApplyGram;

    protected override MessageHeader HeaderFor(GramRequest request, string job) => new(job, request.Layer, request.Epoch, request.FilterVersion);

    protected override async Task<ApplyGramCommand> ToCommandAsync(GramRequest request, CommandWriter writer) => new()
    {
        Header = writer.Header,
        Frozen = [],
        Direction = await writer.FiltersAsync(request.Direction),
    };

    protected override GramRequest ToRequest(ApplyGramCommand command, CommandReader reader) =>
        new(command.Header.Layer, command.Header.Epoch, CommandReader.Version(command.Header), reader.Filters(command.Direction));

    protected override GramReply ToReply(FilterProduct result, ReplyWriter writer) => new() { Product = writer.Blob(result.Product) };

    protected override async Task<FilterProduct> FromReplyAsync(GramReply reply, ReplyReader reader) =>
        new(reply.Shard, TensorWire.ToFilterBank(reply.Product, await reader.FetchAsync(reply.Product.Data)));
}
