using System.Globalization;

namespace Distributed.Compute.Arithmetic;

/// <summary>
/// One row of the convolution-arithmetic table: the volume a layer produces from its input and what it costs.
/// Legend: input J_w × J_h × C; K maps (or N neurons); filter M × N; stride s; padding P; output padding Q.
/// <list type="bullet">
/// <item>Sizes, per axis: conv O = 1 + (J + 2P − M)/s, exact (s must divide J + 2P − M); deconv O = s(J − 1) + M − 2P + Q,
/// so with Q = 0 a conv with the same M, s, P maps O back to J; fc 1 × 1 × N; dn (J + s − 1) with K maps (Zeiler's
/// valid reconstruction: the maps are larger than the input).</item>
/// <item><see cref="WeightsPerNeuron"/>: the weights one output neuron applies, bias included: M·N·C + 1 for conv and
/// deconv (the whole kernel, even where taps fall on padding), J_w·J_h·C + 1 for fc, s²·C_k for a dn map that
/// reconstructs C_k planes (no bias). Under "singles and all doubles" C_k is 1 or 2, so the row has a range:
/// <see cref="WeightsPerNeuronMin"/> to <see cref="WeightsPerNeuron"/>.</item>
/// <item><see cref="Neurons"/>: the output volume.</item>
/// <item><see cref="Connections"/>: links that carry a real value — each weight tap that meets an actual input, not
/// zero padding and not a zero a transposed convolution inserts between inputs — plus one per bias. Without padding a
/// conv or fc layer has Neurons × WeightsPerNeuron (the DQN table); a dn layer has J_w·J_h·s² per connected (k, c).</item>
/// <item><see cref="Parameters"/>: independent weights: K·(M·N·C + 1) for conv and deconv, N·(J_w·J_h·C + 1) for fc,
/// s² per connected (k, c) for dn, i.e. K·C·s²·density.</item>
/// </list>
/// A layer that does not fit is a <see cref="NetworkSpecException"/> naming it and the numbers, never a rounded size.
/// </summary>
public sealed record LayerArithmetic(
    int Index,
    string Name,
    LayerDescription Layer,
    VolumeShape Input,
    VolumeShape Output,
    long WeightsPerNeuron,
    long WeightsPerNeuronMin,
    long Neurons,
    long Connections,
    long Parameters)
{
    public bool WeightsPerNeuronVary => WeightsPerNeuronMin != WeightsPerNeuron;

    /// <summary>Evaluates <paramref name="layer"/> on <paramref name="input"/>; <paramref name="index"/> (1-based) and <paramref name="name"/> label the row and its errors.</summary>
    public static LayerArithmetic Of(LayerDescription layer, VolumeShape input, int index, string name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(name);
        if (input.Width <= 0 || input.Height <= 0 || input.Depth <= 0)
            throw new NetworkSpecException($"its input {input} has a size that is not positive.", index, layer.Text);
        try
        {
            return layer.Kind switch
            {
                LayerKind.Convolution or LayerKind.TransposedConvolution => Strided(layer, input, index, name),
                LayerKind.FullyConnected => FullyConnected(layer, input, index, name),
                LayerKind.Deconvolutional => Deconvolutional(layer, input, index, name),
                _ => throw new ArgumentOutOfRangeException(nameof(layer), layer.Kind, "unknown layer kind"),
            };
        }
        catch (OverflowException)
        {
            throw new NetworkSpecException($"its counts on the input {input} overflow a 64-bit integer.", index, layer.Text);
        }
    }

    private static LayerArithmetic Strided(LayerDescription layer, VolumeShape input, int index, string name)
    {
        int p = layer.Padding;
        // A padding of M or more would give neurons (or, transposed, inputs) that touch nothing but padding.
        if (p >= layer.FilterWidth || p >= layer.FilterHeight)
            throw new NetworkSpecException($"padding P = {p} must be smaller than the filter {layer.FilterWidth}×{layer.FilterHeight}, or some neurons would see only padding.", index, layer.Text);

        bool transposed = layer.Kind == LayerKind.TransposedConvolution;
        if (transposed && layer.OutputPadding >= layer.Stride)
            throw new NetworkSpecException($"output padding Q = {layer.OutputPadding} must be smaller than the stride s = {layer.Stride}.", index, layer.Text);

        (int width, long linksX) = transposed
            ? TransposedAxis(input.Width, layer.FilterWidth, layer.Stride, p, layer.OutputPadding, "width", layer, index)
            : ConvolutionAxis(input.Width, layer.FilterWidth, layer.Stride, p, "width", layer, index);
        (int height, long linksY) = transposed
            ? TransposedAxis(input.Height, layer.FilterHeight, layer.Stride, p, layer.OutputPadding, "height", layer, index)
            : ConvolutionAxis(input.Height, layer.FilterHeight, layer.Stride, p, "height", layer, index);

        var output = new VolumeShape(width, height, layer.Maps);
        long weights = checked((long)layer.FilterWidth * layer.FilterHeight * input.Depth + 1);
        long neurons = output.Count;
        long connections = checked((long)layer.Maps * input.Depth * linksX * linksY + neurons);
        long parameters = checked(layer.Maps * weights);
        return new LayerArithmetic(index, name, layer, input, output, weights, weights, neurons, connections, parameters);
    }

    /// <summary>
    /// Output size O = 1 + (J + 2P − M)/s along one axis, and the taps that meet real input along it:
    /// Σ_{o&lt;O} |[o·s − P, o·s − P + M) ∩ [0, J)|.
    /// </summary>
    private static (int Size, long Links) ConvolutionAxis(int j, int m, int s, int p, string axis, LayerDescription layer, int index)
    {
        long span = (long)j + 2L * p - m;
        if (span < 0)
            throw new NetworkSpecException($"filter {axis} M = {m} is larger than the input {axis} J = {j} plus padding 2P = {2 * p}.", index, layer.Text);
        if (span % s != 0)
        {
            string exact = (1 + span / (double)s).ToString("0.###", CultureInfo.InvariantCulture);
            throw new NetworkSpecException($"stride s = {s} does not divide J + 2P − M = {j} + {2 * p} − {m} = {span} along the {axis} (output {axis} would be 1 + {span}/{s} = {exact}).", index, layer.Text);
        }
        long size = 1 + span / s;
        long links = size * m;
        // Only windows near the borders lose taps to padding; there are fewer than M of them on each side.
        for (long o = 0; o < size && o * s < p; o++) links -= p - o * s;
        for (long o = size - 1; o >= 0 && o * s - p + m > j; o--) links -= o * s - p + m - j;
        return ((int)size, links);
    }

    /// <summary>
    /// Output size O = s(J − 1) + M − 2P + Q along one axis, and the taps that land inside it:
    /// |{(i, u) : i &lt; J, u &lt; M, 0 ≤ i·s + u − P &lt; O}| (the scatter form of the transposed convolution).
    /// </summary>
    private static (int Size, long Links) TransposedAxis(int j, int m, int s, int p, int q, string axis, LayerDescription layer, int index)
    {
        long size = (long)s * (j - 1) + m - 2L * p + q;
        if (size <= 0)
            throw new NetworkSpecException($"output {axis} s(J − 1) + M − 2P + Q = {s}·{j - 1} + {m} − {2 * p} + {q} = {size} is not positive.", index, layer.Text);
        if (size > int.MaxValue)
            throw new NetworkSpecException($"output {axis} s(J − 1) + M − 2P + Q = {size} does not fit a 32-bit size.", index, layer.Text);
        long links = (long)j * m;
        // Cropping only reaches the first and last few inputs: fewer than M on each side.
        for (long i = 0; i < j && i * s < p; i++) links -= p - i * s;
        for (long i = j - 1; i >= 0 && i * s + m - p > size; i--) links -= i * s + m - p - size;
        return ((int)size, links);
    }

    private static LayerArithmetic FullyConnected(LayerDescription layer, VolumeShape input, int index, string name)
    {
        var output = new VolumeShape(1, 1, layer.Maps);
        long weights = checked(input.Count + 1);
        long neurons = layer.Maps;
        long connections = checked(neurons * weights);
        return new LayerArithmetic(index, name, layer, input, output, weights, weights, neurons, connections, connections);
    }

    private static LayerArithmetic Deconvolutional(LayerDescription layer, VolumeShape input, int index, string name)
    {
        int s = layer.FilterWidth;
        if (s > input.Width || s > input.Height)
            throw new NetworkSpecException($"filter {s}×{s} is larger than its input {input.Width}×{input.Height}.", index, layer.Text);

        long c = input.Depth;
        long filterArea = (long)s * s;
        long pairs, weightsMin, weightsMax;
        if (layer.Connectivity == MapConnectivity.Full)
        {
            pairs = checked(layer.Maps * c);
            weightsMin = weightsMax = checked(filterArea * c);
        }
        else
        {
            long doubles = c * (c - 1) / 2;
            if (layer.Maps != c + doubles)
                throw new NetworkSpecException($"singles and all doubles over C = {c} input planes makes {c} + {doubles} = {c + doubles} maps, not K = {layer.Maps}.", index, layer.Text);
            pairs = checked(c + 2 * doubles);
            weightsMin = filterArea;
            weightsMax = c >= 2 ? 2 * filterArea : filterArea;
        }

        var output = new VolumeShape(checked(input.Width + s - 1), checked(input.Height + s - 1), layer.Maps);
        long neurons = output.Count;
        // A valid convolution never leaves the map: every input pixel of every connected (k, c) meets all s² taps.
        long connections = checked((long)input.Width * input.Height * filterArea * pairs);
        long parameters = checked(filterArea * pairs);
        return new LayerArithmetic(index, name, layer, input, output, weightsMax, weightsMin, neurons, connections, parameters);
    }
}
