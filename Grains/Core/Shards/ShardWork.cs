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
    /// <param name="load">The job's limits; the silo's own (<see cref="DistributedGrainOptions.ImageLimits"/>) cap them here, where every image a shard holds is decoded.</param>
    public static ImageShard Build(int shard, TrainingSpec spec, IReadOnlyList<ShardImageRecord> images, ImageLoadOptions load, DistributedGrainOptions silo, int parallelism, CancellationToken cancellationToken)
    {
        var imageShard = new ImageShard(shard, spec, parallelism);
        string? dataRoot = silo.DataRoot;
        ImageLoadOptions options = load.Within(silo.ImageLimits) with { Grey = spec.Grey, SkipBad = false };
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
