using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Fixtures;

/// <summary>A training observer that keeps every checkpoint, for resume tests.</summary>
internal sealed class CheckpointRecorder : ITrainingObserver
{
    public List<TrainingCheckpoint> Checkpoints { get; } = [];

    public void OnProgress(TrainingProgress progress)
    {
    }

    public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        Checkpoints.Add(checkpoint);
        return ValueTask.CompletedTask;
    }
}
