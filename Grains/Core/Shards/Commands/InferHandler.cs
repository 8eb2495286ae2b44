using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Shards.Protocol;

namespace Distributed.Grains.Shards.Commands;

/// <summary>
/// An inference pass on a shard: <see cref="ImageShard.Infer"/>. The reply carries the totals and, on request, A's
/// blocks and b (or b alone), which the coordinator gathers, in shard order, under a reduce span.
/// </summary>
internal sealed class InferHandler : ShardCommandHandler<InferRequest, ShardPartial, InferCommand, InferReply>
{
    public override string Operation => TelemetryNames.Spans.InferShard;

    public override string? GatherOperation => TelemetryNames.Spans.Reduce;

    protected override MessageHeader HeaderFor(InferRequest request, string job) => new(job, request.Layer, request.Epoch, request.FilterVersion);

    protected override async Task<InferCommand> ToCommandAsync(InferRequest request, CommandWriter writer) => new()
    {
        Header = writer.Header,
        Frozen = await writer.FrozenAsync(request.Frozen),
        Filters = await writer.FiltersAsync(request.Filters),
        InputScale = request.InputScale,
        Images = request.Images?.ToArray(),
        Statistics = request.Statistics,
        ColdStart = request.ColdStart,
    };

    protected override InferRequest ToRequest(InferCommand command, CommandReader reader) =>
        new(command.Header.Layer, command.Header.Epoch, CommandReader.Version(command.Header), reader.Filters(command.Filters), command.InputScale,
            reader.Frozen(command.Frozen), command.Images, command.Statistics, command.ColdStart);

    protected override InferReply ToReply(ShardPartial result, ReplyWriter writer)
    {
        FilterNormalEquations? eq = result.Statistics;
        FilterBank? b = eq?.B ?? result.RightHandSide;
        var reply = new InferReply
        {
            Totals = result.Totals.ToMessage(),
            Gram = eq is null ? null : writer.Blob(TensorWire.GramShape(eq), eq.Gram),
            B = b is null ? null : writer.Blob(b),
            SumSquaredInputs = eq?.SumSquaredInputs ?? 0,
            StatisticsImages = eq?.Images ?? 0,
        };
        var job = new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, writer.Header.Job);
        DistributedTelemetry.ImagesInferred.Add(result.Totals.Images, job);
        DistributedTelemetry.ShardInferenceSeconds.Record(writer.Seconds, job);
        writer.Span?.SetTag(TelemetryNames.Tags.Images, result.Totals.Images);
        writer.Span?.SetTag(TelemetryNames.Tags.Objective, result.Totals.Objective);
        writer.Span?.SetTag(TelemetryNames.Tags.DataTerm, result.Totals.DataTerm);
        writer.Span?.SetTag(TelemetryNames.Tags.SparsityTerm, result.Totals.SparsityTerm);
        writer.Span?.SetTag(TelemetryNames.Tags.Bytes, (reply.Gram?.Data.Length ?? 0) + (reply.B?.Data.Length ?? 0));
        return reply;
    }

    protected override async Task<ShardPartial> FromReplyAsync(InferReply reply, ReplyReader reader)
    {
        FilterBank? b = reply.B is null ? null : TensorWire.ToFilterBank(reply.B, await reader.FetchAsync(reply.B.Data));
        FilterNormalEquations? statistics = null;
        if (reply.Gram is not null && b is not null)
        {
            // A's pairs follow the layer's connectivity, which the reply does not carry: the spec gives it.
            Connectivity g = reader.Spec.ConnectivityFor(reply.Header.Layer, b.Inputs);
            statistics = TensorWire.ToNormalEquations(g, b, reply.Gram, await reader.FetchAsync(reply.Gram.Data), reply.SumSquaredInputs, reply.StatisticsImages);
        }
        return new ShardPartial(reply.Shard, reply.Totals.ToTotals(), statistics, statistics is null ? b : null);
    }
}
