using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>Compute's training results ↔ their wire form (tensors packed by the caller's payload function).</summary>
public static class ResultWire
{
    public static LayerResultMessage ToMessage(LayerResult layer, Func<byte[], Payload> pack) => new()
    {
        Layer = layer.Layer,
        Filters = TensorWire.Blob(TensorWire.ShapeOf(layer.Filters), layer.Filters.Data, pack),
        Connectivity = layer.Connectivity,
        InputScale = layer.InputScale,
        Final = layer.Final.ToMessage(),
    };

    public static LayerResult ToLayerResult(LayerResultMessage message, byte[] filterBytes) =>
        new(message.Layer, TensorWire.ToFilterBank(message.Filters, filterBytes), message.Connectivity, message.InputScale, message.Final.ToTotals());

    public static ImageReportMessage ToMessage(ImageReport report, Func<byte[], Payload> pack) => new()
    {
        Image = report.Image,
        Name = report.Name,
        Input = TensorWire.Blob(TensorWire.ShapeOf(report.Input), report.Input.Data, pack),
        Reconstructions = [.. report.Reconstructions.Select(t => TensorWire.Blob(TensorWire.ShapeOf(t), t.Data, pack))],
        Maps = report.Maps is null ? null : [.. report.Maps.Select(t => TensorWire.Blob(TensorWire.ShapeOf(t), t.Data, pack))],
    };

    /// <summary>A report back from the wire; <paramref name="fetch"/> resolves each tensor's payload to bytes.</summary>
    public static async Task<ImageReport> ToReportAsync(ImageReportMessage message, Func<Payload, Task<byte[]>> fetch)
    {
        Tensor3 input = TensorWire.ToTensor3(message.Input, await fetch(message.Input.Data));
        var reconstructions = new List<Tensor3>();
        foreach (TensorBlob t in message.Reconstructions) reconstructions.Add(TensorWire.ToTensor3(t, await fetch(t.Data)));
        List<Tensor3>? maps = null;
        if (message.Maps is not null)
        {
            maps = [];
            foreach (TensorBlob t in message.Maps) maps.Add(TensorWire.ToTensor3(t, await fetch(t.Data)));
        }
        return new ImageReport(message.Image, message.Name, input, reconstructions, maps);
    }

    /// <summary>
    /// The <see cref="TrainingResult"/> a finished job amounts to, the same record the serial engine returns, with its
    /// reports; tensors are fetched through <paramref name="fetch"/> (chunks from the coordinator when large).
    /// </summary>
    public static async Task<(TrainingResult Result, IReadOnlyList<ImageReport> Reports)> ToTrainingResultAsync(JobResult result, Func<Payload, Task<byte[]>> fetch)
    {
        ArgumentNullException.ThrowIfNull(result);
        var layers = new List<LayerResult>();
        foreach (LayerResultMessage layer in result.Layers) layers.Add(ToLayerResult(layer, await fetch(layer.Filters.Data)));
        var reports = new List<ImageReport>();
        foreach (ImageReportMessage report in result.Reports) reports.Add(await ToReportAsync(report, fetch));
        TrainingSpec spec = SpecWire.Deserialize(result.SpecJson);
        return (new TrainingResult(spec, layers, [.. result.Metrics.Select(m => m.ToMetrics())], TimeSpan.FromSeconds(result.ElapsedSeconds)), reports);
    }
}
