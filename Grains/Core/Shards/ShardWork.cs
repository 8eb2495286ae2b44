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
    /// <param name="load">The job's limits; the silo's own (<see cref="DistributedGrainOptions.ImageLimits"/>) cap them here, where every image a shard holds is decoded.</param>
    public static ImageShard Build(int shard, TrainingSpec spec, IReadOnlyList<ShardImageRecord> images, ImageLoadOptions load, DistributedGrainOptions silo, int parallelism, CancellationToken cancellationToken)
    {
        var imageShard = new ImageShard(shard, spec, parallelism, silo.ShardMemoryBytes);
        string? dataRoot = silo.DataRoot;
        ImageLoadOptions options = load.Within(silo.ImageLimits) with { Grey = spec.Grey, SkipBad = false };
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

/// <summary>Paths under the silo's data root; anything resolving outside it, by path or symbolic link, is refused (<see cref="DataRootPath"/>).</summary>
internal static class DataRoot
{
    public static string Resolve(string? root, string relative) => DataRootPath.Resolve(root, relative);

    /// <summary><paramref name="relative"/> itself, once <see cref="Resolve"/> has found it inside the root (for a folder listing's files, which may be links).</summary>
    public static string Checked(string? root, string relative)
    {
        Resolve(root, relative);
        return relative;
    }
}
