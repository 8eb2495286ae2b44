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

    /// <summary>Records what the engine reports, as the console's progress bar would see it.</summary>
    public sealed class NullObserver : ITrainingObserver
    {
        public int Updates { get; private set; }

        public void OnProgress(TrainingProgress progress) => Updates++;

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
