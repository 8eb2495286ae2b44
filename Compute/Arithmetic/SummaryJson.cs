using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distributed.Compute.Arithmetic;

/// <summary>
/// The table as JSON (camelCase): <c>{ input, layers: [{ index, name, spec, kind, output, weightsPerNeuron,
/// weightsPerNeuronMin?, neurons, connections, parameters }], output, totals: { neurons, connections, parameters } }</c>.
/// Volumes are <c>{ width, height, depth }</c>; <c>weightsPerNeuronMin</c> appears only where a layer's neurons differ
/// (a dn layer with singles and all doubles), and <c>weightsPerNeuron</c> is then the largest.
/// The shape is spelled out by the records below, so renaming a Compute type cannot change it.
/// </summary>
public static class SummaryJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string Format(NetworkSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var document = new SummaryDocument(
            Volume.Of(summary.Input),
            summary.Layers.Select(row => new LayerRow(
                row.Index,
                row.Name,
                row.Layer.Text,
                row.Layer.Kind,
                Volume.Of(row.Output),
                row.WeightsPerNeuron,
                row.WeightsPerNeuronVary ? row.WeightsPerNeuronMin : null,
                row.Neurons,
                row.Connections,
                row.Parameters)).ToArray(),
            Volume.Of(summary.Output),
            new Totals(summary.TotalNeurons, summary.TotalConnections, summary.TotalParameters));
        return JsonSerializer.Serialize(document, Options);
    }

    private sealed record SummaryDocument(Volume Input, IReadOnlyList<LayerRow> Layers, Volume Output, Totals Totals);

    private sealed record LayerRow(
        int Index,
        string Name,
        string Spec,
        LayerKind Kind,
        Volume Output,
        long WeightsPerNeuron,
        long? WeightsPerNeuronMin,
        long Neurons,
        long Connections,
        long Parameters);

    private sealed record Volume(int Width, int Height, int Depth)
    {
        public static Volume Of(VolumeShape shape) => new(shape.Width, shape.Height, shape.Depth);
    }

    private sealed record Totals(long Neurons, long Connections, long Parameters);
}
