using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Fixtures;

/// <summary>A training observer that writes down every hook as one short line, in the order the trainer calls them.</summary>
internal sealed class PhaseRecorder : ITrainingObserver
{
    public List<string> Lines { get; } = [];

    public void OnProgress(TrainingProgress progress)
    {
    }

    public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        Lines.Add($"checkpoint {checkpoint.Layer}.{checkpoint.NextEpoch} {checkpoint.FilterVersion}");
        return ValueTask.CompletedTask;
    }

    public void OnLayerStarted(int layer) => Lines.Add($"layer {layer}");

    public void OnLayerEnded(LayerResult layer) => Lines.Add($"layer {layer.Layer} end");

    public void OnEpochStarted(EpochPhase epoch) => Lines.Add($"{(epoch.Final ? "final" : "epoch")} {epoch.Layer}.{epoch.Epoch} {epoch.FilterVersion}");

    public void OnEpochEnded(EpochPhase epoch, EpochMetrics? metrics) =>
        Lines.Add($"{(epoch.Final ? "final" : "epoch")} {epoch.Layer}.{epoch.Epoch} end{(metrics is null ? "" : $" row {metrics.Layer}.{metrics.Epoch}")}");

    public void OnFilterUpdateStarted(FilterUpdatePhase update) =>
        Lines.Add($"update {update.Layer}.{update.Epoch} {update.FilterVersion}{(update.Image is { } i ? $" image {i}" : "")}");

    public void OnFilterUpdateEnded(FilterUpdatePhase update) => Lines.Add($"update {update.Layer}.{update.Epoch} end");
}
