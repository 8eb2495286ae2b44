using Distributed.Compute.Features;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Shards.Protocol;

namespace Distributed.Grains.Shards.Commands;

/// <summary>
/// `infer` at scale on a shard: <see cref="ImageShard.Extract"/>. The reply carries per-image totals and feature rows
/// (small), and reports only for the images asked for; every tensor shares the reply's inline budget and the rest is
/// pulled as chunks, so a round with large maps never makes an oversized message.
/// </summary>
internal sealed class ExtractHandler : ShardCommandHandler<ExtractRequest, IReadOnlyList<ImageExtraction>, ExtractCommand, ExtractReply>
{
    public override string Operation => TelemetryNames.Spans.Extract;

    protected override MessageHeader HeaderFor(ExtractRequest request, string job) => MessageHeader.ForJob(job);

    protected override async Task<ExtractCommand> ToCommandAsync(ExtractRequest request, CommandWriter writer) => new()
    {
        Header = writer.Header,
        Frozen = await writer.FrozenAsync(request.Model),
        Images = [.. request.Images],
        IncludeMaps = request.IncludeMaps,
        Reconstruct = [.. request.Reconstruct],
        Readout = request.Readout is { } r
            ? new ReadoutMessage { Rectification = r.Rectification, Pooling = r.Pooling, PoolSize = r.PoolSize, Layers = r.Layers?.ToArray() }
            : null,
    };

    protected override ExtractRequest ToRequest(ExtractCommand command, CommandReader reader) =>
        new(reader.Frozen(command.Frozen), command.Images,
            command.Readout is { } r ? new ReadoutSpec(r.Rectification, r.Pooling, r.PoolSize, r.Layers) : null,
            command.IncludeMaps, command.Reconstruct);

    protected override ExtractReply ToReply(IReadOnlyList<ImageExtraction> result, ReplyWriter writer)
    {
        var reply = new ExtractReply
        {
            Images = [.. result.Select(x => new ImageExtractionMessage
            {
                Image = x.Image,
                Name = x.Name,
                Layers = [.. x.Layers.Select(t => t.ToMessage())],
                MapShapes = [.. x.MapShapes.SelectMany(s => new[] { s.Maps, s.Rows, s.Cols })],
                Features = x.Features is { } row ? writer.Blob([row.Length], row) : null,
                Report = x.Report is { } report ? ResultWire.ToMessage(report, writer.Pack) : null,
                Maps = x.Maps is { } maps ? [.. maps.Select(m => writer.Blob(TensorWire.ShapeOf(m), m.Data))] : null,
            })],
        };
        var job = new KeyValuePair<string, object?>(TelemetryNames.Tags.Job, writer.Header.Job);
        DistributedTelemetry.ImagesInferred.Add(result.Count, job);
        DistributedTelemetry.ShardInferenceSeconds.Record(writer.Seconds, job);
        writer.Span?.SetTag(TelemetryNames.Tags.Images, result.Count);
        return reply;
    }

    protected override async Task<IReadOnlyList<ImageExtraction>> FromReplyAsync(ExtractReply reply, ReplyReader reader)
    {
        var images = new List<ImageExtraction>(reply.Images.Length);
        foreach (ImageExtractionMessage x in reply.Images)
        {
            if (x.MapShapes.Length != 3 * x.Layers.Length)
                throw new InvalidDataException($"image {x.Image} ({x.Name}): {x.MapShapes.Length} shape values for {x.Layers.Length} layers.");
            float[]? row = x.Features is { } blob ? TensorWire.Floats(blob, await reader.FetchAsync(blob.Data)) : null;
            ImageReport? report = x.Report is { } r ? await ResultWire.ToReportAsync(r, reader.FetchAsync) : null;
            List<Tensor3>? maps = null;
            if (x.Maps is { } blobs)
            {
                maps = [];
                foreach (TensorBlob m in blobs) maps.Add(TensorWire.ToTensor3(m, await reader.FetchAsync(m.Data)));
            }
            images.Add(new ImageExtraction(x.Image, x.Name, [.. x.Layers.Select(t => t.ToTotals())],
                [.. Enumerable.Range(0, x.Layers.Length).Select(l => (x.MapShapes[3 * l], x.MapShapes[3 * l + 1], x.MapShapes[3 * l + 2]))],
                row, maps, report));
        }
        return images;
    }
}
