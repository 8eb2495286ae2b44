using Distributed.Compute;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Engines;

/// <summary>The single-process engine: <see cref="LocalImageWorkers"/> under the shared <see cref="Trainer"/>.</summary>
internal sealed class SerialEngine(int shards = 1, int maxParallelism = 0) : ITrainingEngine
{
    public string Name => "serial";

    public async Task<EngineRun> TrainAsync(TrainingSpec spec, ImageInput input, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        var (images, warnings) = LoadPreprocessed(spec, input);
        var workers = new LocalImageWorkers(spec, images, shards, maxParallelism);
        TrainingResult result = await new Trainer(spec, workers, observer).RunAsync(null, cancellationToken);
        int[] shown = Enumerable.Range(0, Math.Min(input.Reconstructions, images.Count)).ToArray();
        IReadOnlyList<ImageReport> reports = await workers.ReportAsync(new ReportRequest(result.Layers.Select(l => l.Frozen).ToArray(), shown, false), cancellationToken);
        return new EngineRun(result, images.Select(i => i.Name).ToArray(), reports, warnings);
    }

    /// <summary>Decodes the files (grey unless the spec keeps RGB) and preprocesses each image as the spec says.</summary>
    public static (IReadOnlyList<(string Name, Tensor3 Image)> Images, IReadOnlyList<string> Warnings) LoadPreprocessed(TrainingSpec spec, ImageInput input)
    {
        ImageSet set = SkipTooSmall(ImageSet.LoadFiles(input.Files, input.Options with { Grey = spec.Grey }), spec, input.Options);
        var images = set.Images.Select(i => (i.Name, Preprocessor.ApplyToImage(i.Pixels, spec.Preprocessing))).ToArray();
        return (images, set.Warnings);
    }

    /// <summary>With --skip-bad, images too small for the spec's filters become warnings too (without it the shard refuses them, naming the spec field).</summary>
    public static ImageSet SkipTooSmall(ImageSet set, TrainingSpec spec, ImageLoadOptions options) =>
        options.SkipBad
            ? set.Without(i => ImageSizeRequirement.Check(spec, i.Pixels.Rows, i.Pixels.Cols) is { } small
                ? Commands.SpecOptions.Describe(new SpecException(small.Problem, small.Field))
                : null, skip: true)
            : set;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
