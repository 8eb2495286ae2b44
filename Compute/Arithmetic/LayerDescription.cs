namespace Distributed.Compute.Arithmetic;

/// <summary>The four layer kinds the `summary` grammar knows.</summary>
public enum LayerKind
{
    /// <summary><c>conv:K:MxN/s[/pP]</c>: K maps of M×N filters over every input plane, stride s, zero padding P, a bias per map.</summary>
    Convolution,

    /// <summary><c>fc:N</c>: N neurons, each weighing every input value plus a bias.</summary>
    FullyConnected,

    /// <summary><c>deconv:K:MxN/s[/pP][/oQ]</c>: transposed convolution, the adjoint of a strided convolution, a bias per map.</summary>
    TransposedConvolution,

    /// <summary><c>dn:K:s[:full|:sad]</c>: a Zeiler 2010 deconvolutional layer, K maps of (J+s−1)² reconstructing the input through s×s filters, no bias.</summary>
    Deconvolutional,
}

/// <summary>Which feature maps of a deconvolutional layer reconstruct which input planes.</summary>
public enum MapConnectivity
{
    /// <summary>Every map reconstructs every input plane: K·C filters.</summary>
    Full,

    /// <summary>Zeiler's "singles and all doubles": one map per plane and one per unordered pair, C + C(C−1)/2 maps, C² filters.</summary>
    SinglesAndAllDoubles,
}

/// <summary>
/// One parsed layer. <paramref name="Maps"/> is K (output maps) or N (fully connected neurons); filter sizes,
/// <paramref name="Stride"/> and paddings are 0 where the kind has none. <paramref name="Text"/> is what the user wrote.
/// Sizes are validated against the layer's input by <see cref="LayerArithmetic"/>, not here.
/// </summary>
public sealed record LayerDescription(
    LayerKind Kind,
    string Text,
    int Maps,
    int FilterWidth = 0,
    int FilterHeight = 0,
    int Stride = 0,
    int Padding = 0,
    int OutputPadding = 0,
    MapConnectivity Connectivity = MapConnectivity.Full)
{
    /// <summary>The prefix of the grammar, used to name rows: conv1, fc2, deconv1, dn2.</summary>
    public string Prefix => Kind switch
    {
        LayerKind.Convolution => "conv",
        LayerKind.FullyConnected => "fc",
        LayerKind.TransposedConvolution => "deconv",
        LayerKind.Deconvolutional => "dn",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
    };
}
