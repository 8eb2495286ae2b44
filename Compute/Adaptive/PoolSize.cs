using System.Globalization;

namespace Distributed.Compute.Adaptive;

/// <summary>
/// The neighbourhood of 3-D max pooling (Zeiler, Taylor, Fergus 2011): <see cref="Rows"/> × <see cref="Cols"/> positions
/// of <see cref="Maps"/> adjacent feature maps pool into one value. Blocks do not overlap; "3x3x2" is rows × cols × maps.
/// </summary>
public sealed record PoolSize(int Rows, int Cols, int Maps)
{
    /// <summary>The largest extent accepted along any axis.</summary>
    public const int MaxExtent = 64;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Rows}x{Cols}x{Maps}");

    /// <summary>Throws a <see cref="SpecException"/> on the field <c>layers.pool</c> unless every extent is in 1..<see cref="MaxExtent"/>.</summary>
    public void Validate(string? at = null)
    {
        if (Rows < 1 || Rows > MaxExtent || Cols < 1 || Cols > MaxExtent || Maps < 1 || Maps > MaxExtent)
            throw new SpecException($"{(at is null ? "" : at + ": ")}layers.pool = {this}; each of rows, cols and maps must be in 1..{MaxExtent}.", "layers.pool");
    }

    /// <summary>Parses "3x3x2" (rows × cols × maps) or "3x3" (maps = 1); "none" is null.</summary>
    public static PoolSize? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string word = text.Trim().ToLowerInvariant();
        if (word is "none" or "0" or "") return null;
        string[] parts = word.Split('x');
        if (parts.Length is < 2 or > 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new SpecException($"layers.pool = '{text}'; expected rows x cols x maps like 3x3x2 (or 3x3, or none).", "layers.pool");
        int[] v = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var size = new PoolSize(v[0], v[1], v.Length == 3 ? v[2] : 1);
        size.Validate();
        return size;
    }
}
