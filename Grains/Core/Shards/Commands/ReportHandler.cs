using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Shards.Protocol;

namespace Distributed.Grains.Shards.Commands;

/// <summary>Reconstructions (and maps on request) of some of a shard's images: <see cref="ImageShard.Report"/>.</summary>
internal sealed class ReportHandler : ShardCommandHandler<ReportRequest, IReadOnlyList<ImageReport>, ReportCommand, ReportReply>
{
    public override string Operation => TelemetryNames.Spans.Report;

    protected override MessageHeader HeaderFor(ReportRequest request, string job) => MessageHeader.ForJob(job);

    protected override async Task<ReportCommand> ToCommandAsync(ReportRequest request, CommandWriter writer) => new()
    {
        Header = writer.Header,
        Frozen = await writer.FrozenAsync(request.Frozen),
        Images = [.. request.Images],
        IncludeMaps = request.IncludeMaps,
    };

    protected override ReportRequest ToRequest(ReportCommand command, CommandReader reader) =>
        new(reader.Frozen(command.Frozen), command.Images, command.IncludeMaps);

    protected override ReportReply ToReply(IReadOnlyList<ImageReport> result, ReplyWriter writer) =>
        new() { Reports = [.. result.Select(r => ResultWire.ToMessage(r, writer.Pack))] };

    protected override async Task<IReadOnlyList<ImageReport>> FromReplyAsync(ReportReply reply, ReplyReader reader)
    {
        var reports = new List<ImageReport>(reply.Reports.Length);
        foreach (ImageReportMessage r in reply.Reports) reports.Add(await ResultWire.ToReportAsync(r, reader.FetchAsync));
        return reports;
    }
}
