using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Grains.Tests.Support;

/// <summary>The serial engine with the cluster's shard plan: the reference a distributed run must match.</summary>
internal static class Oracle
{
    public static Task<TrainingResult> TrainAsync(TrainingSpec spec, IReadOnlyList<string> files, int shards)
    {
        var (images, _) = SerialEngine.LoadPreprocessed(spec, new ImageInput(files, ImageLoadOptions.Default, 0));
        var workers = new LocalImageWorkers(spec, images, shards, maxParallelism: 1);
        return new Trainer(spec, workers).RunAsync();
    }

    /// <summary>Distributed equals serial: objectives to relative 1e-5, filters to absolute 1e-4, input scales to 5 digits.</summary>
    public static void AssertSameTraining(TrainingResult expected, TrainingResult actual, string what)
    {
        Assert.True(expected.Metrics.Count == actual.Metrics.Count, $"{what}: {actual.Metrics.Count} epochs of metrics, expected {expected.Metrics.Count}");
        for (int i = 0; i < expected.Metrics.Count; i++)
        {
            EpochMetrics e = expected.Metrics[i], a = actual.Metrics[i];
            double rel = Math.Abs(a.Objective - e.Objective) / Math.Max(Math.Abs(e.Objective), 1e-30);
            Assert.True(rel <= 1e-5, $"{what}: layer {e.Layer} epoch {e.Epoch}: objective {a.Objective:R} vs serial {e.Objective:R} (relative {rel:E2} > 1e-5)");
        }
        Assert.Equal(expected.Layers.Count, actual.Layers.Count);
        for (int l = 0; l < expected.Layers.Count; l++)
        {
            float[] e = expected.Layers[l].Filters.Data, a = actual.Layers[l].Filters.Data;
            Assert.Equal(e.Length, a.Length);
            double max = e.Zip(a, (x, y) => Math.Abs((double)x - y)).Max();
            Assert.True(max <= 1e-4, $"{what}: layer {l + 1} filters differ by {max:E2} (> 1e-4)");
            Assert.Equal(expected.Layers[l].InputScale, actual.Layers[l].InputScale, 5);
        }
    }

    /// <summary>Records what the engine reports, as the console's progress bar would see it.</summary>
    public sealed class NullObserver : ITrainingObserver
    {
        public int Updates { get; private set; }

        public void OnProgress(TrainingProgress progress) => Updates++;

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
