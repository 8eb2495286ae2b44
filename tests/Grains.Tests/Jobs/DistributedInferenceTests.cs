using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Features;
using Distributed.Compute.Imaging;
using Distributed.Compute.Inference;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;

namespace Distributed.Grains.Tests.Jobs;

/// <summary>
/// `infer --engine distributed`: the client places the images on shards over the silos and streams the fixed model's
/// results back in rounds; every map, reconstruction, feature row and total must be the serial engine's, bit for bit
/// (each image is inferred alone from z = 0 with the same filters, and totals are summed per image in image order).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DistributedInferenceTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>Layer 1's maps of a 72² image are 12 × 78² floats, 292 kB: over the fixture's 256 KiB limit, so they travel as chunks.</summary>
    private static readonly TrainingSpec Spec = new()
    {
        Layers =
        [
            new LayerSpec { Maps = 12, FilterSize = 7, Lambda = 5 },
            new LayerSpec { Maps = 4, FilterSize = 3, Lambda = 5 },
        ],
        Seed = 9,
    };

    [Fact]
    public async Task Extract_TwoLayersSixImagesOnThreeShards_EqualsSerialBitForBit()
    {
        string[] files = TestImages.Write("infer-equal", count: 6, size: 72, seed: 12);
        var readout = new ReadoutSpec(Rectification.Split, Pooling.Avg, 8);
        var input = new ImageInput(files, ImageLoadOptions.Default, 0);
        int[] shown = [0, 3, 5];
        EngineImages local = await new SerialEngine(1, 2).OpenImagesAsync(Spec, input, CancellationToken.None);
        // Each layer's input scaled to unit RMS, as training does, so the random filters find something to code.
        var layer1 = new FrozenLayer(RandomFilters(12, 1, 7, seed: 1), await UnitRmsScaleAsync(local.Workers, 0, []));
        FrozenLayer[] model = [layer1, new(RandomFilters(4, 12, 3, seed: 2), await UnitRmsScaleAsync(local.Workers, 1, [layer1]))];

        var serial = new List<ImageExtraction>();
        IReadOnlyList<InferenceTotals> want = await ModelExtraction.RunAsync(local.Workers, model, readout, includeMaps: true, shown,
            x => { serial.Add(x); return ValueTask.CompletedTask; });

        var distributed = new List<ImageExtraction>();
        await using var engine = new DistributedEngine(fixture.Grains, ClusterFixture.Limits, 3, "test cluster") { JobId = "infer-equal" };
        EngineImages placed = await engine.OpenImagesAsync(Spec, input, CancellationToken.None).WaitAsync(Patience);
        IReadOnlyList<InferenceTotals> got = await ModelExtraction.RunAsync(placed.Workers, model, readout, includeMaps: true, shown,
            x => { distributed.Add(x); return ValueTask.CompletedTask; }, imagesPerShard: 1).WaitAsync(Patience);

        Assert.Equal(local.Names, placed.Names);
        Assert.Equal([0, 1, 2, 3, 4, 5], distributed.Select(x => x.Image).Order());
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(want[l].Objective, got[l].Objective);
            Assert.Equal(want[l].Nonzeros, got[l].Nonzeros);
            Assert.Equal(want[l].PsnrSum, got[l].PsnrSum);
        }
        Assert.True(want[0].Nonzeros > 0 && want[1].Nonzeros > 0, $"the model infers nothing ({want[0]}; {want[1]}): the comparison would be vacuous");
        foreach (ImageExtraction d in distributed)
        {
            ImageExtraction s = serial.Single(x => x.Image == d.Image);
            Assert.Equal(s.Name, d.Name);
            Assert.Equal(s.MapShapes, d.MapShapes);
            Assert.Equal(s.Features, d.Features);
            for (int l = 0; l < 2; l++) Assert.Equal(s.Maps![l].Data, d.Maps![l].Data);
            Assert.Equal(shown.Contains(d.Image), d.Report is not null);
            Assert.Equal(d.Report is null, s.Report is null);
            if (d.Report is null) continue;
            Assert.Equal(s.Report!.Input.Data, d.Report.Input.Data);
            for (int l = 0; l < 2; l++) Assert.Equal(s.Report.Reconstructions[l].Data, d.Report.Reconstructions[l].Data);
        }

        ShardDescription[] shards = await Task.WhenAll(Enumerable.Range(0, 3).Select(s =>
            fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format("infer-equal", s)).DescribeAsync(MessageHeader.ForJob("infer-equal"))));
        Assert.Equal([2, 2, 2], shards.Select(s => s.Images.Length));
        Assert.True(shards.Select(s => s.Silo).Distinct().Count() > 1, $"all shards ran on one silo: {string.Join(", ", shards.Select(s => s.Silo))}");
    }

    [Theory]
    [InlineData("deactivated")]
    [InlineData("pull-lost")]
    public async Task Extract_ShardsLostMidRun_RoundAnsweredAgainAndEqualsSerial(string fault)
    {
        string job = $"infer-lost-{fault}";
        // 80² images: each one's maps (12 × 86² floats, 355 kB) are over the fixture's 256 KiB limit, so every reply is pulled in chunks.
        string[] files = TestImages.Write(job, count: 6, size: 80, seed: 14);
        var spec = new TrainingSpec { Layers = [new LayerSpec { Maps = 12, FilterSize = 7, Lambda = 5 }], Seed = 2 };
        var input = new ImageInput(files, ImageLoadOptions.Default, 0);
        var readout = new ReadoutSpec(Rectification.Abs, Pooling.Max, 4);
        EngineImages local = await new SerialEngine(1, 2).OpenImagesAsync(spec, input, CancellationToken.None);
        FrozenLayer[] model = [new(RandomFilters(12, 1, 7, seed: 5), await UnitRmsScaleAsync(local.Workers, 0, []))];
        var serial = new List<ImageExtraction>();
        IReadOnlyList<InferenceTotals> want = await ModelExtraction.RunAsync(local.Workers, model, readout, true, [0, 5], x => { serial.Add(x); return ValueTask.CompletedTask; });

        await using var engine = new DistributedEngine(fixture.Grains, ClusterFixture.Limits, 3, "test cluster") { JobId = job };
        EngineImages placed = await engine.OpenImagesAsync(spec, input, CancellationToken.None).WaitAsync(Patience);
        // Round 1 (one image per shard, three arrivals) passes; round 2 is held on its first shard while every shard
        // loses its activation, or a reply's chunks vanish before they are pulled.
        TestShardGate.Hold? hold = fault == "deactivated" ? TestShardGate.Instance.HoldAt(job, TelemetryNames.Spans.Extract, layer: -1, epoch: -1, pass: 3) : null;
        if (fault == "pull-lost") TestFaults.LoseNextReplyPull(job);
        var distributed = new List<ImageExtraction>();
        Task<IReadOnlyList<InferenceTotals>> run = ModelExtraction.RunAsync(placed.Workers, model, readout, true, [0, 5],
            x => { distributed.Add(x); return ValueTask.CompletedTask; }, imagesPerShard: 1);
        if (hold is not null)
        {
            await Task.WhenAny(hold.Reached, run).WaitAsync(Patience);
            Assert.True(hold.Reached.IsCompleted, $"round 2 was never held: {run.Status}");
            await Task.WhenAll(Enumerable.Range(0, 3).Select(s => fixture.Cluster.DeactivateAsync(fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, s))))).WaitAsync(Patience);
            hold.Release();
        }
        IReadOnlyList<InferenceTotals> got = await run.WaitAsync(Patience);

        if (fault == "pull-lost") Assert.Equal(1, TestFaults.LostPulls(job));
        Assert.Equal(want[0].Objective, got[0].Objective);
        Assert.Equal([0, 1, 2, 3, 4, 5], distributed.Select(x => x.Image).Order());
        foreach (ImageExtraction d in distributed)
        {
            ImageExtraction s = serial.Single(x => x.Image == d.Image);
            Assert.Equal(s.Features, d.Features);
            Assert.Equal(s.Maps![0].Data, d.Maps![0].Data);
            Assert.Equal(s.Report?.Reconstructions[0].Data, d.Report?.Reconstructions[0].Data);
        }
    }

    [Fact]
    public async Task Extract_ModelForOtherPlanes_FailsWithTheShardsOneLineNamingTheImage()
    {
        string[] files = TestImages.Write("infer-planes", count: 2, size: 24, seed: 13);
        FrozenLayer[] rgbModel = [new(RandomFilters(4, 3, 5, seed: 3), 1f)];
        var spec = new TrainingSpec { Layers = [new LayerSpec { Maps = 4, FilterSize = 5 }], Seed = 1 };
        await using var engine = new DistributedEngine(fixture.Grains, ClusterFixture.Limits, 2, "test cluster") { JobId = "infer-planes" };
        EngineImages placed = await engine.OpenImagesAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None).WaitAsync(Patience);

        var e = await Assert.ThrowsAsync<ShardInputException>(() =>
            ModelExtraction.RunAsync(placed.Workers, rgbModel, null, false, [], _ => ValueTask.CompletedTask).WaitAsync(Patience));

        Assert.Contains("reads 3 planes; img00.pgm gives 1", e.Message);
        Assert.Equal("images", e.Field);
    }

    private static async Task<float> UnitRmsScaleAsync(IImageWorkers workers, int layer, FrozenLayer[] below)
    {
        IReadOnlyList<LayerInputSummary> sums = await workers.PrepareLayerAsync(new PrepareLayerRequest(layer, below), CancellationToken.None);
        return (float)Math.Sqrt(sums.Sum(s => s.Values) / sums.Sum(s => s.SumSquares));
    }

    /// <summary>Unit-norm random filters: a fixed model that needs no training (equality, not quality, is tested).</summary>
    private static FilterBank RandomFilters(int maps, int inputs, int size, int seed)
    {
        var rng = new Random(seed);
        var f = new FilterBank(maps, inputs, size);
        for (int i = 0; i < f.Data.Length; i++) f.Data[i] = (float)(rng.NextDouble() - 0.5);
        int per = inputs * size * size;
        for (int k = 0; k < maps; k++)
        {
            Span<float> filter = f.Data.AsSpan(k * per, per);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(filter));
            System.Numerics.Tensors.TensorPrimitives.Divide(filter, norm, filter);
        }
        return f;
    }
}
