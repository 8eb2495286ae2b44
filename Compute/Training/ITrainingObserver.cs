namespace Distributed.Compute.Training;

/// <summary>
/// Told where training is, as it gets there: the phases of the loop (layer, epoch, filter update) as they start and
/// end, progress, and a checkpoint after every epoch's update. Hooks are called in the trainer's order on its own flow
/// (never concurrently), so a span or log opened at a start hook can be closed at its end hook. Each epoch runs
/// <see cref="OnEpochStarted"/>, its inference, one <see cref="OnFilterUpdateStarted"/>/<see cref="OnFilterUpdateEnded"/>
/// pair per update (one per image for online updates), <see cref="OnProgress"/>, <see cref="OnCheckpointAsync"/>, then
/// <see cref="OnEpochEnded"/>; a layer's final pass is an epoch with <see cref="EpochPhase.Final"/> set and no update.
/// Implementations must not block long; every hook but the checkpoint has a default that does nothing.
/// </summary>
public interface ITrainingObserver
{
    void OnProgress(TrainingProgress progress);

    ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>Layer <paramref name="layer"/> (0-based) begins: its inputs are about to be built.</summary>
    void OnLayerStarted(int layer)
    {
    }

    /// <summary>A layer is trained and frozen (its final pass is done).</summary>
    void OnLayerEnded(LayerResult layer)
    {
    }

    void OnEpochStarted(EpochPhase epoch)
    {
    }

    /// <summary>An epoch (or final pass) is done; <paramref name="metrics"/> is its row, null for a final pass.</summary>
    void OnEpochEnded(EpochPhase epoch, EpochMetrics? metrics)
    {
    }

    void OnFilterUpdateStarted(FilterUpdatePhase update)
    {
    }

    void OnFilterUpdateEnded(FilterUpdatePhase update)
    {
    }
}

/// <summary>
/// One inference pass of the loop: epoch <see cref="Epoch"/> (0-based) of layer <see cref="Layer"/> with the filters
/// of <see cref="FilterVersion"/>; <see cref="Final"/> for the pass from z = 0 that closes a layer.
/// </summary>
public sealed record EpochPhase(int Layer, int Epoch, FilterVersion FilterVersion, bool Final);

/// <summary>
/// One filter update: after the epoch's pass (batch), or after image <see cref="Image"/> (global index; online), from
/// the filters of <see cref="FilterVersion"/>.
/// </summary>
public sealed record FilterUpdatePhase(int Layer, int Epoch, FilterVersion FilterVersion, int? Image);
