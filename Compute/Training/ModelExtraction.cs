using Distributed.Compute.Features;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>
/// `infer` on any engine, streamed: the images go to their shards in rounds of a few per shard
/// (<see cref="ExtractRequest"/>, every shard at once), and each image's result is handed to the caller as its round
/// returns, in image order within the round, while the next round already runs. Neither side ever holds more than two
/// rounds of dense maps, whatever the number of images; the shards forget each round's maps.
/// </summary>
public static class ModelExtraction
{
    /// <summary>
    /// Images each shard infers per round: enough to keep a 16-core silo busy (images run in parallel within a shard),
    /// few enough that two rounds of dense maps stay small next to the images themselves.
    /// </summary>
    public const int DefaultImagesPerShard = 16;

    /// <summary>
    /// Runs the model over every image the workers hold and returns the per-layer totals, summed in image order (so
    /// they do not depend on the shard plan). <paramref name="onImage"/> is called once per image, never concurrently.
    /// </summary>
    public static async Task<IReadOnlyList<InferenceTotals>> RunAsync(IImageWorkers workers, IReadOnlyList<FrozenLayer> model, ReadoutSpec? readout, bool includeMaps,
        IReadOnlyList<int> reconstruct, Func<ImageExtraction, ValueTask> onImage, int imagesPerShard = DefaultImagesPerShard, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(reconstruct);
        ArgumentNullException.ThrowIfNull(onImage);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imagesPerShard);
        if (model.Count == 0) throw new ArgumentException("the model has no layers.", nameof(model));
        readout?.Validate(model.Count);
        int images = workers.Shards.Sum(s => s.Count);
        int rounds = workers.Shards.Max(s => (s.Count + imagesPerShard - 1) / imagesPerShard);
        var shown = reconstruct.ToHashSet();
        var perImage = new InferenceTotals[images][];

        Task<IReadOnlyList<IReadOnlyList<ImageExtraction>>> Start(int round)
        {
            int[] batch = [.. workers.Shards.SelectMany(s => s.Skip(round * imagesPerShard).Take(imagesPerShard)).Order()];
            var request = new ExtractRequest(model, batch, readout, includeMaps, [.. batch.Where(shown.Contains)]);
            // Off the caller's thread: the serial engine's workers run the request synchronously, and the caller writes
            // the previous round's outputs meanwhile.
            return Task.Run(() => workers.RunAsync(request, cancellationToken), cancellationToken);
        }

        Task<IReadOnlyList<IReadOnlyList<ImageExtraction>>>? next = rounds > 0 ? Start(0) : null;
        for (int round = 0; next is not null; round++)
        {
            IReadOnlyList<IReadOnlyList<ImageExtraction>> current = await next;
            next = round + 1 < rounds ? Start(round + 1) : null;
            try
            {
                foreach (ImageExtraction image in current.SelectMany(s => s).OrderBy(x => x.Image))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (image.Image < 0 || image.Image >= images || perImage[image.Image] is not null)
                        throw new InvalidOperationException($"image {image.Image} ({image.Name}) was answered twice or is not one of the {images} images.");
                    if (image.Layers.Count != model.Count)
                        throw new InvalidOperationException($"image {image.Image} ({image.Name}) came back with {image.Layers.Count} layers; the model has {model.Count}.");
                    perImage[image.Image] = [.. image.Layers];
                    await onImage(image);
                }
            }
            catch when (next is not null)
            {
                // The round in flight is nobody's now; its failure (if any) is not the one to report.
                _ = next.ContinueWith(t => t.Exception, TaskScheduler.Default);
                throw;
            }
        }
        int missing = Array.FindIndex(perImage, t => t is null);
        if (missing >= 0) throw new InvalidOperationException($"image {missing} was never answered by its shard.");
        var totals = new InferenceTotals[model.Count];
        foreach (InferenceTotals[] image in perImage)
            for (int l = 0; l < totals.Length; l++) totals[l] += image[l];
        return totals;
    }
}
