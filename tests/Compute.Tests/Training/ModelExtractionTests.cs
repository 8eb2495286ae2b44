using Distributed.Compute.Adaptive;
using Distributed.Compute.Features;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

/// <summary>
/// `infer` at scale: a fixed model through every layer, image by image in rounds per shard, must give what the
/// layer-by-layer <see cref="ModelInference"/> gives on one shard, bit for bit, on any shard plan and round size.
/// </summary>
public class ModelExtractionTests
{
    [Theory]
    [InlineData(NetworkModel.Deconv, 1, 16)]
    [InlineData(NetworkModel.Deconv, 3, 1)]
    [InlineData(NetworkModel.Deconv, 2, 2)]
    [InlineData(NetworkModel.Adaptive, 1, 16)]
    [InlineData(NetworkModel.Adaptive, 3, 1)]
    public async Task RunAsync_AnyShardPlanAndRound_EqualsModelInferenceBitForBit(NetworkModel kind, int shards, int imagesPerShard)
    {
        TrainingSpec spec = Spec(kind);
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 5, size: 16, seed: 31);
        FrozenLayer[] model = [.. (await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync()).Layers.Select(l => l.Frozen)];
        int[] all = [.. Enumerable.Range(0, images.Count)];
        ModelInferenceResult expected = await ModelInference.RunAsync(new LocalImageWorkers(spec, images), model, all, includeMaps: true);
        var readout = new ReadoutSpec(Rectification.Split, Pooling.Max, 3);

        var workers = new LocalImageWorkers(spec, images, shards, maxParallelism: 2);
        var got = new List<ImageExtraction>();
        IReadOnlyList<InferenceTotals> totals = await ModelExtraction.RunAsync(workers, model, readout, includeMaps: true, reconstruct: [1, 3],
            image => { got.Add(image); return ValueTask.CompletedTask; }, imagesPerShard);

        Assert.Equal(all, got.Select(x => x.Image).Order());
        for (int l = 0; l < model.Length; l++)
        {
            // Summed per image in image order, as one shard sums its images: the same doubles whatever the plan.
            Assert.Equal(expected.Layers[l].Objective, totals[l].Objective);
            Assert.Equal(expected.Layers[l].DataTerm, totals[l].DataTerm);
            Assert.Equal(expected.Layers[l].Nonzeros, totals[l].Nonzeros);
            Assert.Equal(expected.Layers[l].PsnrSum, totals[l].PsnrSum);
            Assert.Equal(images.Count, totals[l].Images);
        }
        foreach (ImageExtraction x in got)
        {
            ImageReport want = expected.Reports[x.Image];
            Assert.Equal(want.Name, x.Name);
            Assert.Equal(x.Image is 1 or 3, x.Report is not null);
            for (int l = 0; l < model.Length; l++)
            {
                Assert.Equal(want.Maps![l].Data, x.Maps![l].Data);
                Assert.Equal((want.Maps[l].Planes, want.Maps[l].Rows, want.Maps[l].Cols), x.MapShapes[l]);
                if (x.Report is { } report) Assert.Equal(want.Reconstructions[l].Data, report.Reconstructions[l].Data);
            }
            if (x.Report is { } shown) Assert.Equal(want.Input.Data, shown.Input.Data);
            var row = new float[FeatureReadout.Length(readout, x.MapShapes)];
            FeatureReadout.Read(readout, want.Maps!, row);
            Assert.Equal(row, x.Features);
        }
        Assert.All(workers.Local, s => Assert.Equal(0, s.ResidentStateBytes));
    }

    [Fact]
    public async Task RunAsync_FeaturesOnly_ShipsRowsAndReportsOnlyForTheShownImages()
    {
        TrainingSpec spec = Spec(NetworkModel.Deconv);
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 4, size: 16, seed: 32);
        FrozenLayer[] model = [.. (await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync()).Layers.Select(l => l.Frozen)];
        var readout = new ReadoutSpec(Rectification.Abs, Pooling.Avg, 4, [2]);
        var withMaps = new List<ImageExtraction>();
        var rowsOnly = new List<ImageExtraction>();

        await ModelExtraction.RunAsync(new LocalImageWorkers(spec, images, 2), model, readout, true, [], x => { withMaps.Add(x); return ValueTask.CompletedTask; });
        await ModelExtraction.RunAsync(new LocalImageWorkers(spec, images, 2), model, readout, false, [2], x => { rowsOnly.Add(x); return ValueTask.CompletedTask; });

        Assert.Equal(withMaps.OrderBy(x => x.Image).Select(x => x.Features), rowsOnly.OrderBy(x => x.Image).Select(x => x.Features));
        Assert.Equal([2], rowsOnly.Where(x => x.Report is not null).Select(x => x.Image));
        Assert.Null(rowsOnly.Single(x => x.Image == 2).Report!.Maps);
        Assert.All(rowsOnly, x => Assert.Null(x.Maps));
        Assert.All(withMaps, x => Assert.Equal(2, x.Maps!.Count));
    }

    [Fact]
    public void Extract_ModelOfOtherPlanes_NamesTheImage()
    {
        TrainingSpec spec = Spec(NetworkModel.Deconv);
        var shard = new ImageShard(0, spec);
        shard.Add(0, "grey.png", Distributed.Compute.Tests.Fixtures.Synthetic.Random(1, 16, 16, seed: 3));
        FrozenLayer[] rgbModel = [new(new FilterBank(4, 3, 5), 1f)];

        var e = Assert.Throws<SpecException>(() => shard.Extract(new ExtractRequest(rgbModel, [0], null, false, [])));

        Assert.Contains("grey.png gives 1", e.Message);
        Assert.Equal("images", e.Field);
    }

    private static TrainingSpec Spec(NetworkModel kind) => kind == NetworkModel.Adaptive
        ? new TrainingSpec
        {
            Model = NetworkModel.Adaptive,
            Solver = InferenceSolver.Fista,
            Fista = new FistaOptions { MaxIterations = 20 },
            Layers =
            [
                new LayerSpec { Maps = 4, FilterSize = 5, P = 1, Lambda = 3, Epochs = 1, Pool = new PoolSize(2, 2, 2) },
                new LayerSpec { Maps = 3, FilterSize = 3, P = 1, Lambda = 3, Epochs = 1, Connectivity = ConnectivityKind.SinglesAndAllDoubles },
            ],
            Seed = 4,
        }
        : new TrainingSpec
        {
            Layers =
            [
                new LayerSpec { Maps = 4, FilterSize = 5, P = 1, Lambda = 0.5, Epochs = 1 },
                new LayerSpec { Maps = 3, FilterSize = 3, P = 1, Lambda = 0.5, Epochs = 1 },
            ],
            Seed = 5,
        };
}
