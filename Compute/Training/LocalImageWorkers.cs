namespace Distributed.Compute.Training;

/// <summary>
/// The serial engine's workers: <see cref="ImageShard"/>s in this process, run one after another (each using up to
/// the given parallelism across its images). With the same shard plan as a cluster, it performs the same sums in
/// the same order as the distributed engine.
/// </summary>
public sealed class LocalImageWorkers : IImageWorkers
{
    private readonly ImageShard[] _shards;

    /// <param name="images">Preprocessed images (name, planes), in global order.</param>
    public LocalImageWorkers(TrainingSpec spec, IReadOnlyList<(string Name, Tensors.Tensor3 Image)> images, int shards = 1, int maxParallelism = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new SpecException("there are no images to train on.", "images");
        int parallelism = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount;
        Shards = ShardPlan.Partition(images.Count, shards);
        _shards = new ImageShard[Shards.Count];
        for (int s = 0; s < Shards.Count; s++)
        {
            _shards[s] = new ImageShard(s, spec, parallelism);
            foreach (int i in Shards[s]) _shards[s].Add(i, images[i].Name, images[i].Image);
        }
        InputPlanes = images[0].Image.Planes;
        foreach (var (name, image) in images)
            if (image.Planes != InputPlanes)
                throw new SpecException($"{name} has {image.Planes} planes but {images[0].Name} has {InputPlanes}; convert all to grey or all to RGB.", "images");
    }

    public IReadOnlyList<IReadOnlyList<int>> Shards { get; }

    public int InputPlanes { get; }

    public Task<IReadOnlyList<TResult>> RunAsync<TResult>(IShardRequest<TResult> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var results = new List<TResult>(_shards.Length);
        for (int s = 0; s < _shards.Length; s++)
        {
            if (request.Images is { } images && !images.Any(Shards[s].Contains)) continue;
            results.Add(request.RunOn(_shards[s], cancellationToken));
        }
        return Task.FromResult<IReadOnlyList<TResult>>(results);
    }
}
