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
        : this(spec, (images ?? throw new ArgumentNullException(nameof(images))).Select(i => (IImageSource)new InMemoryImageSource(i.Name, i.Image)).ToArray(), shards, maxParallelism)
    {
    }

    /// <param name="sources">The images by reference, in global order: each shard keeps as many decoded as its budget allows and re-reads the rest.</param>
    /// <param name="shardMemory">Each shard's memory budget in bytes (0: <see cref="ShardMemory.Default"/>).</param>
    public LocalImageWorkers(TrainingSpec spec, IReadOnlyList<IImageSource> sources, int shards = 1, int maxParallelism = 0, long shardMemory = 0)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Count == 0) throw new SpecException("there are no images to train on.", "images");
        int parallelism = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount;
        Shards = ShardPlan.Partition(sources.Count, shards);
        long budget = shardMemory > 0 ? shardMemory : ShardMemory.Default(Shards.Count);
        _shards = new ImageShard[Shards.Count];
        for (int s = 0; s < Shards.Count; s++)
        {
            _shards[s] = new ImageShard(s, spec, parallelism, budget);
            foreach (int i in Shards[s]) _shards[s].Add(i, sources[i]);   // a shard refuses planes unlike its first image's
            if (_shards[s].Planes != _shards[0].Planes)
                throw new SpecException($"{sources[Shards[s][0]].Name} has {_shards[s].Planes} planes but {sources[0].Name} has {_shards[0].Planes}; convert all to grey or all to RGB.", "images");
        }
        InputPlanes = _shards[0].Planes;
    }

    public IReadOnlyList<IReadOnlyList<int>> Shards { get; }

    public int InputPlanes { get; }

    /// <summary>The shards, for inspection (their caches and resident bytes).</summary>
    public IReadOnlyList<ImageShard> Local => _shards;

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
