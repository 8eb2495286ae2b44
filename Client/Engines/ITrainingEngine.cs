using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Engines;

/// <summary>
/// Where a training run executes: in this process (<see cref="SerialEngine"/>, the oracle) or on an Orleans cluster.
/// Both run the same Compute <see cref="Trainer"/> loop and hand back the same result, so the output folder is the same.
/// </summary>
internal interface ITrainingEngine : IAsyncDisposable
{
    string Name { get; }

    Task<EngineRun> TrainAsync(TrainingSpec spec, ImageInput input, ITrainingObserver observer, CancellationToken cancellationToken);

    /// <summary>
    /// Places the images on this engine's shards for a fixed-model pass (`infer`): the workers, the image names in
    /// global order, and the warnings of choosing the files. Nothing is decoded here beyond what --skip-bad checks.
    /// </summary>
    Task<EngineImages> OpenImagesAsync(TrainingSpec spec, ImageInput input, CancellationToken cancellationToken);
}

/// <summary>
/// Images placed on an engine's shards: what `infer` runs its model over. <see cref="Release"/> deletes what the engine
/// stored for them (a cluster's uploads); null where nothing was stored.
/// </summary>
internal sealed record EngineImages(IImageWorkers Workers, IReadOnlyList<string> Names, IReadOnlyList<string> Warnings, Func<Task>? Release = null);

/// <summary>The images of a run: files on this machine, read with these options.</summary>
internal sealed record ImageInput(IReadOnlyList<string> Files, ImageLoadOptions Options, int Reconstructions);

/// <summary>A finished run: the result, the image names in global order, and reports for the first few images.</summary>
internal sealed record EngineRun(TrainingResult Result, IReadOnlyList<string> ImageNames, IReadOnlyList<ImageReport> Reports, IReadOnlyList<string> Warnings);
