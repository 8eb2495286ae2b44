namespace Distributed.Compute.Arithmetic;

/// <summary>
/// The convolution-arithmetic table of a whole network: each layer evaluated on the previous layer's output, and the
/// totals of neurons, connections and independent parameters. Rows are named by kind and ordinal (conv1, conv2, fc1).
/// </summary>
public sealed record NetworkSummary(VolumeShape Input, IReadOnlyList<LayerArithmetic> Layers)
{
    public long TotalNeurons => Sum(row => row.Neurons);
    public long TotalConnections => Sum(row => row.Connections);
    public long TotalParameters => Sum(row => row.Parameters);

    /// <summary>The volume the last layer produces (the input when there are no layers).</summary>
    public VolumeShape Output => Layers.Count == 0 ? Input : Layers[^1].Output;

    /// <summary>Parses "WxHxD" and the layer texts (each may hold a comma-separated list), then evaluates every layer.</summary>
    public static NetworkSummary Describe(string input, IEnumerable<string> layers) =>
        Describe(VolumeShape.Parse(input), LayerParser.ParseList(layers));

    public static NetworkSummary Describe(VolumeShape input, IReadOnlyList<LayerDescription> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (input.Width <= 0 || input.Height <= 0 || input.Depth <= 0)
            throw new NetworkSpecException($"input {input}: every size must be positive.");
        if (layers.Count == 0)
            throw new NetworkSpecException($"no layers; give at least one of {LayerParser.Grammar}.");

        var rows = new LayerArithmetic[layers.Count];
        var ordinals = new Dictionary<LayerKind, int>();
        VolumeShape current = input;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerDescription layer = layers[i];
            int ordinal = ordinals[layer.Kind] = ordinals.GetValueOrDefault(layer.Kind) + 1;
            rows[i] = LayerArithmetic.Of(layer, current, i + 1, $"{layer.Prefix}{ordinal}");
            current = rows[i].Output;
        }
        var summary = new NetworkSummary(input, rows);
        try
        {
            _ = summary.TotalNeurons + summary.TotalConnections + summary.TotalParameters;
        }
        catch (OverflowException)
        {
            throw new NetworkSpecException("the network's totals overflow a 64-bit integer.");
        }
        return summary;
    }

    private long Sum(Func<LayerArithmetic, long> count)
    {
        long total = 0;
        foreach (LayerArithmetic row in Layers) total = checked(total + count(row));
        return total;
    }
}
