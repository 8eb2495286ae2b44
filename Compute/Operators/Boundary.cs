namespace Distributed.Compute.Operators;

/// <summary>How a layer's feature maps meet the image border.</summary>
public enum Boundary
{
    /// <summary>Zeiler 2010: maps are (H+s−1)×(W+s−1); reconstruction is a valid convolution, no wrap-around.</summary>
    Valid,

    /// <summary>SPORCO: maps are H×W and convolution wraps around (valid convolution of a wrap-padded map).</summary>
    Circular,
}
