using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Grains.Shards;

/// <summary>
/// Turns a shard's stored images into a Compute <see cref="ImageShard"/>: decode (uploaded bytes, or a file under the
/// data root) exactly as the serial engine does, then preprocess per the spec. Runs on the compute scheduler.
/// </summary>
internal static class ShardWork
{
    public static ImageShard Build(int shard, TrainingSpec spec, IReadOnlyList<ShardImageRecord> images, ImageLoadOptions load, string? dataRoot, int parallelism, CancellationToken cancellationToken)
    {
        var imageShard = new ImageShard(shard, spec, parallelism);
        ImageLoadOptions options = load with { Grey = spec.Grey, SkipBad = false };
        foreach (ShardImageRecord image in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor3 pixels = image.RelativePath is { } relative
                ? ImageDecoder.DecodeFile(DataRoot.Resolve(dataRoot, relative), options)
                : ImageDecoder.Decode(image.Name, image.Encoded, options);
            imageShard.Add(image.Index, image.Name, Preprocessor.ApplyToImage(pixels, spec.Preprocessing));
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
