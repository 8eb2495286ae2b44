using System.Globalization;

namespace Distributed.Compute.Arithmetic;

/// <summary>
/// Parses the layer grammar of the `summary` command:
/// <c>conv:K:MxN/s[/pP]</c>, <c>fc:N</c>, <c>deconv:K:MxN/s[/pP][/oQ]</c> and <c>dn:K:s[:full|:sad]</c>.
/// Only the text is checked here (integers, signs, allowed suffixes); whether a layer fits its input is
/// <see cref="LayerArithmetic"/>'s job, which knows the input.
/// </summary>
public static class LayerParser
{
    public const string Grammar = "conv:K:MxN/s[/pP], fc:N, deconv:K:MxN/s[/pP][/oQ] or dn:K:s[:full|:sad]";

    /// <summary>Splits comma-separated lists ("conv:16:8x8/4,fc:256") and parses every layer, numbering them from 1.</summary>
    public static IReadOnlyList<LayerDescription> ParseList(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var layers = new List<LayerDescription>();
        foreach (string text in texts)
            foreach (string part in text.Split(','))
                layers.Add(Parse(part.Trim(), layers.Count + 1));
        return layers;
    }

    /// <summary>Parses one layer; <paramref name="index"/> (1-based) only labels errors.</summary>
    public static LayerDescription Parse(string text, int index)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) throw new NetworkSpecException($"empty layer (a stray comma?); expected {Grammar}.", index, text);
        string[] fields = text.Split(':');
        return fields[0].ToLowerInvariant() switch
        {
            "conv" => ParseStrided(LayerKind.Convolution, fields, text, index),
            "deconv" => ParseStrided(LayerKind.TransposedConvolution, fields, text, index),
            "fc" => ParseFullyConnected(fields, text, index),
            "dn" => ParseDeconvolutional(fields, text, index),
            _ => throw new NetworkSpecException($"unknown layer kind '{fields[0]}'; expected {Grammar}.", index, text),
        };
    }

    private static LayerDescription ParseFullyConnected(string[] fields, string text, int index)
    {
        if (fields.Length != 2) throw Unparseable("fc:N", text, index);
        int n = Positive(fields[1], "neurons N", "fc:N", text, index);
        return new LayerDescription(LayerKind.FullyConnected, text, n);
    }

    private static LayerDescription ParseStrided(LayerKind kind, string[] fields, string text, int index)
    {
        string form = kind == LayerKind.Convolution ? "conv:K:MxN/s[/pP]" : "deconv:K:MxN/s[/pP][/oQ]";
        if (fields.Length != 3) throw Unparseable(form, text, index);
        int maps = Positive(fields[1], "maps K", form, text, index);

        string[] slashes = fields[2].Split('/');
        if (slashes.Length < 2) throw Unparseable(form, text, index);
        string[] filter = slashes[0].Split('x', 'X', '×');
        if (filter.Length != 2) throw Unparseable(form, text, index);
        int width = Positive(filter[0], "filter width M", form, text, index);
        int height = Positive(filter[1], "filter height N", form, text, index);
        int stride = Positive(slashes[1], "stride s", form, text, index);

        int? padding = null, outputPadding = null;
        foreach (string option in slashes.Skip(2))
        {
            if (option.Length > 1 && char.ToLowerInvariant(option[0]) == 'p' && padding is null)
                padding = NonNegative(option[1..], "padding P", form, text, index);
            else if (option.Length > 1 && char.ToLowerInvariant(option[0]) == 'o' && outputPadding is null && kind == LayerKind.TransposedConvolution)
                outputPadding = NonNegative(option[1..], "output padding Q", form, text, index);
            else
                throw Unparseable(form, text, index);
        }
        return new LayerDescription(kind, text, maps, width, height, stride, padding ?? 0, outputPadding ?? 0);
    }

    private static LayerDescription ParseDeconvolutional(string[] fields, string text, int index)
    {
        const string form = "dn:K:s[:full|:sad]";
        if (fields.Length is < 3 or > 4) throw Unparseable(form, text, index);
        int maps = Positive(fields[1], "maps K", form, text, index);
        int size = Positive(fields[2], "filter size s", form, text, index);
        MapConnectivity connectivity = fields.Length == 3 ? MapConnectivity.Full : fields[3].ToLowerInvariant() switch
        {
            "full" => MapConnectivity.Full,
            "sad" => MapConnectivity.SinglesAndAllDoubles,
            _ => throw new NetworkSpecException($"connectivity '{fields[3]}' is unknown; expected 'full' or 'sad' (singles and all doubles).", index, text),
        };
        return new LayerDescription(LayerKind.Deconvolutional, text, maps, size, size, Connectivity: connectivity);
    }

    private static int Positive(string field, string what, string form, string text, int index)
    {
        int value = Integer(field, what, form, text, index);
        if (value <= 0) throw new NetworkSpecException($"{what} must be positive, got {value}.", index, text);
        return value;
    }

    private static int NonNegative(string field, string what, string form, string text, int index)
    {
        int value = Integer(field, what, form, text, index);
        if (value < 0) throw new NetworkSpecException($"{what} must be zero or positive, got {value}.", index, text);
        return value;
    }

    private static int Integer(string field, string what, string form, string text, int index) =>
        int.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new NetworkSpecException($"{what} '{field}' is not an integer; expected {form}.", index, text);

    private static NetworkSpecException Unparseable(string form, string text, int index) =>
        new($"cannot parse; expected {form}.", index, text);
}
