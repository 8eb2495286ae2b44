using System.Globalization;

namespace Distributed.Compute.Arithmetic;

/// <summary>
/// A volume of neurons as the convolution-arithmetic table prints it: Width × Height × Depth (input planes or maps).
/// A fully connected layer's output is 1 × 1 × N.
/// </summary>
public readonly record struct VolumeShape(int Width, int Height, int Depth)
{
    public long Count => checked((long)Width * Height * Depth);

    public override string ToString() => $"{Width}×{Height}×{Depth}";

    /// <summary>
    /// Parses "WxHxD" or "WxH" (depth 1, a grey image); '×' may stand for 'x'. Every size must be a positive integer.
    /// </summary>
    public static VolumeShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split('x', '×', 'X');
        if (parts.Length is < 2 or > 3)
            throw new NetworkSpecException($"input '{text}': expected WxHxD (e.g. 84x84x4) or WxH for one plane.");
        var sizes = new int[3] { 0, 0, 1 };
        string[] names = ["width", "height", "depth"];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out sizes[i]))
                throw new NetworkSpecException($"input '{text}': {names[i]} '{parts[i]}' is not an integer; expected WxHxD (e.g. 84x84x4).");
            if (sizes[i] <= 0)
                throw new NetworkSpecException($"input '{text}': {names[i]} must be positive, got {sizes[i]}.");
        }
        return new VolumeShape(sizes[0], sizes[1], sizes[2]);
    }
}
