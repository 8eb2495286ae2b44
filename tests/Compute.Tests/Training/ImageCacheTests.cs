using System.Text;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public sealed class ImageCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("image-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Rent_EvictedImage_IsReReadBitIdentical()
    {
        IImageSource a = Source("a.pgm", 30, 26, seed: 1), b = Source("b.pgm", 30, 26, seed: 2);
        long bytes = 4L * 30 * 26;
        var cache = new ImageCache(bytes);   // room for one image

        float[] first;
        using (ImageCache.Lease lease = cache.Rent(0, a, bytes)) first = (float[])lease.Image.Data.Clone();
        using (cache.Rent(1, b, bytes)) { }
        using ImageCache.Lease again = cache.Rent(0, a, bytes);

        Assert.Equal(3, cache.Loads);
        Assert.Equal(2, cache.Evictions);
        Assert.Equal(first, again.Image.Data);
        Assert.Equal(BitConverter.SingleToInt32Bits(first[17]), BitConverter.SingleToInt32Bits(again.Image.Data[17]));
    }

    [Fact]
    public void Rent_RecentlyUsed_IsKeptOverLeastRecentlyUsed()
    {
        long bytes = 4L * 20 * 20;
        var cache = new ImageCache(2 * bytes);
        IImageSource[] sources = [Source("0.pgm", 20, 20, 0), Source("1.pgm", 20, 20, 1), Source("2.pgm", 20, 20, 2)];

        using (cache.Rent(0, sources[0], bytes)) { }
        using (cache.Rent(1, sources[1], bytes)) { }
        using (cache.Rent(0, sources[0], bytes)) { }   // 1 is now the least recently used
        using (cache.Rent(2, sources[2], bytes)) { }
        using (cache.Rent(0, sources[0], bytes)) { }

        Assert.Equal(3, cache.Loads);   // 0 never left
        Assert.Equal(1, cache.Evictions);
    }

    [Fact]
    public async Task Train_BudgetOfTwoImages_NeverExceedsItAndGivesTheUnboundedResult()
    {
        var spec = new TrainingSpec
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Lambda = 2, P = 1, Epochs = 3 }],
            Solver = InferenceSolver.CoordinateDescent,
            Preprocessing = Preprocessing.Lcn,
            Seed = 4,
        };
        IImageSource[] sources = Enumerable.Range(0, 7).Select(i => Source($"{i}.pgm", 24 + i % 2, 22, seed: 10 + i)).ToArray();
        long imageBytes = 4L * 25 * 22;
        long budget = 2 * imageBytes + 100;

        var streamed = new LocalImageWorkers(spec, sources, shards: 2, maxParallelism: 2, shardMemory: budget);
        TrainingResult bounded = await new Trainer(spec, streamed).RunAsync();
        var resident = new LocalImageWorkers(spec, sources.Select(s => (s.Name, s.Load())).ToArray(), shards: 2, maxParallelism: 2);
        TrainingResult unbounded = await new Trainer(spec, resident).RunAsync();

        foreach (ImageShard shard in streamed.Local)
        {
            Assert.True(shard.Cache.PeakBytes <= budget, $"shard {shard.Index} cached {shard.Cache.PeakBytes} bytes; budget {budget}.");
            Assert.True(shard.Cache.Evictions > 0, $"shard {shard.Index} never evicted: the test does not exercise re-reads.");
        }
        Assert.Equal(unbounded.Layers[0].Filters.Data, bounded.Layers[0].Filters.Data);
        Assert.Equal(unbounded.Metrics.Select(m => m.Objective), bounded.Metrics.Select(m => m.Objective));
        Assert.All(bounded.Metrics, m => Assert.True(m.ResidentBytes > 0));
    }

    [Fact]
    public void Add_BudgetBelowOneImage_NamesTheImageItsSizeAndTheBudget()
    {
        var spec = new TrainingSpec { Layers = [new LayerSpec { Maps = 2, FilterSize = 3 }] };
        var shard = new ImageShard(0, spec, memoryBudget: 1000);

        var e = Assert.Throws<SpecException>(() => shard.Add(0, Source("big.pgm", 40, 30, seed: 3)));

        Assert.Equal("shard-memory", e.Field);
        Assert.Contains("big.pgm", e.Message);
        Assert.Contains("4.69 KiB", e.Message);   // 40 × 30 floats
        Assert.Contains("1000 B", e.Message);
    }

    private DecodedImageSource Source(string name, int width, int height, int seed)
    {
        string path = Path.Combine(_folder, name);
        var rng = new Random(seed);
        byte[] pixels = new byte[width * height];
        rng.NextBytes(pixels);
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n"), .. pixels]);
        return DecodedImageSource.FromFile(path, ImageLoadOptions.Default, Preprocessing.Lcn);
    }
}
