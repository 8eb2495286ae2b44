namespace Distributed.Compute.Arithmetic;

/// <summary>
/// A network description that cannot be evaluated exactly: unparseable text, a non-positive size, or a layer that does
/// not fit its input. The message names the layer (1-based index and its text) and the numbers that disagree, so the
/// console can print it as the one line the user needs.
/// </summary>
public sealed class NetworkSpecException : ArgumentException
{
    public NetworkSpecException(string message, int? layerIndex = null, string? layerText = null)
        : base(layerIndex is int i ? $"layer {i} '{layerText}': {message}" : message)
    {
        LayerIndex = layerIndex;
        LayerText = layerText;
    }

    /// <summary>1-based position of the offending layer; null when the input or the preset is at fault.</summary>
    public int? LayerIndex { get; }

    public string? LayerText { get; }
}
