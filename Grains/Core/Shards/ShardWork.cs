using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Grains.Shards;

/// <summary>
/// Turns a shard's stored images into a Compute <see cref="ImageShard"/>: each image by reference to where it is kept
/// (the uploaded bytes, or a file under the data root), decoded exactly as the serial engine does and preprocessed per
/// the spec whenever the shard's cache needs it. Runs on the compute scheduler.
/// </summary>
internal static class ShardWork
{
    public static ImageShard Build(int shard, TrainingSpec spec, IReadOnlyList<ShardImageRecord> images, ImageLoadOptions load, string? dataRoot, int parallelism,
        long memoryBudget, CancellationToken cancellationToken)
    {
        var imageShard = new ImageShard(shard, spec, parallelism, memoryBudget);
        ImageLoadOptions options = load with { Grey = spec.Grey, SkipBad = false };
        foreach (ShardImageRecord image in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IImageSource source = image.RelativePath is { } relative
                ? DecodedImageSource.FromFile(DataRoot.Resolve(dataRoot, relative), options, spec.Preprocessing, image.Name)
                : DecodedImageSource.FromBytes(image.Name, image.Encoded, options, spec.Preprocessing);
            imageShard.Add(image.Index, source);
        }
        return imageShard;
    }
}

/// <summary>Paths under the silo's data root; anything resolving outside it is refused.</summary>
internal static class DataRoot
{
    public static string Resolve(string? root, string relative)
    {
        if (string.IsNullOrEmpty(root))
            throw new UnauthorizedAccessException("this silo has no data root (--data-root); images cannot be read by path.");
        ArgumentNullException.ThrowIfNull(relative);
        string fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string full = Path.GetFullPath(Path.Combine(fullRoot, relative));
        if (!full.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) && full != fullRoot)
            throw new UnauthorizedAccessException($"'{relative}' resolves outside the data root {fullRoot}.");
        return full;
    }
}
