using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;
using Distributed.Compute.Inference;

namespace Distributed.Grains.Tests.Jobs;

/// <summary>The adaptive model (pooling, pixel-space layers, matrix-free filter updates) on the cluster equals the serial engine.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AdaptiveDistributedTests(ClusterFixture fixture)
{
    [Fact]
    public async Task TrainAsync_AdaptiveTwoLayersOnThreeShards_MatchesSerial()
    {
        string[] files = TestImages.Write("adaptive", count: 5, size: 16, seed: 31);
        var spec = new TrainingSpec
        {
            Model = NetworkModel.Adaptive,
            Solver = InferenceSolver.Fista,
            Fista = new FistaOptions { MaxIterations = 30 },
            Layers =
            [
                new LayerSpec { Maps = 4, FilterSize = 5, P = 1, Lambda = 3, Epochs = 2, Pool = new PoolSize(2, 2, 2) },
                new LayerSpec { Maps = 3, FilterSize = 3, P = 1, Lambda = 3, Epochs = 2, Connectivity = ConnectivityKind.SinglesAndAllDoubles },
            ],
            Seed = 7,
        };

        TrainingResult serial = await Oracle.TrainAsync(spec, files, shards: 3);
        var engine = new DistributedEngine(fixture.Grains, ClusterFixture.Limits, 3, "test cluster") { JobId = "adaptive" };
        EngineRun run = await engine.TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 1), new Oracle.NullObserver(), CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(serial.Metrics.Count, run.Result.Metrics.Count);
        for (int i = 0; i < serial.Metrics.Count; i++)
        {
            EpochMetrics e = serial.Metrics[i], a = run.Result.Metrics[i];
            double rel = Math.Abs(a.Objective - e.Objective) / Math.Abs(e.Objective);
            Assert.True(rel <= 1e-5, $"layer {e.Layer} epoch {e.Epoch}: objective {a.Objective:R} vs serial {e.Objective:R}.");
        }
        for (int l = 0; l < 2; l++)
        {
            double max = serial.Layers[l].Filters.Data.Zip(run.Result.Layers[l].Filters.Data, (x, y) => Math.Abs((double)x - y)).Max();
            Assert.True(max <= 1e-4, $"layer {l + 1} filters differ by {max:E2} from the serial engine's.");
        }
        ImageReport report = Assert.Single(run.Reports);
        Assert.Equal(2, report.Reconstructions.Count);
        Assert.All(report.Reconstructions, r => Assert.True(r.SameShape(report.Input)));
    }
}
