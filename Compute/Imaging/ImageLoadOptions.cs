namespace Distributed.Compute.Imaging;

/// <summary>How images are decoded and which ones are refused. Defaults suit photographs on one machine.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>Largest accepted width × height; 16 megapixels by default (a 4096 × 4096 photo decodes to 192 MiB of RGB floats).</summary>
    public long MaxPixels { get; init; } = 16_000_000;

    /// <summary>Largest accepted file, in bytes; 256 MiB by default.</summary>
    public long MaxFileBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Convert colour images to one luma plane, .299 R + .587 G + .114 B (Rec. 601, as MATLAB's rgb2gray and netpbm's ppmtopgm).</summary>
    public bool Grey { get; init; }

    /// <summary>Sets only: skip unreadable files with a warning instead of failing the whole set.</summary>
    public bool SkipBad { get; init; }

    public static ImageLoadOptions Default { get; } = new();

    /// <summary>
    /// These options with limits no higher than <paramref name="ceiling"/>'s: how a silo applies its own limits to the
    /// ones a job asked for, so a client can lower a limit but never raise it past what the silo allows.
    /// </summary>
    public ImageLoadOptions Within(ImageLoadOptions ceiling)
    {
        ArgumentNullException.ThrowIfNull(ceiling);
        return this with { MaxPixels = Math.Min(MaxPixels, ceiling.MaxPixels), MaxFileBytes = Math.Min(MaxFileBytes, ceiling.MaxFileBytes) };
    }

    public void Validate()
    {
        if (MaxPixels < 1) throw new ArgumentOutOfRangeException(nameof(MaxPixels), $"max pixels = {MaxPixels}; allowed ≥ 1.");
        if (MaxFileBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), $"max file bytes = {MaxFileBytes}; allowed ≥ 1.");
    }
}
