using Distributed.Compute;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Engines;

/// <summary>
/// The single-process engine: <see cref="LocalImageWorkers"/> under the shared <see cref="Trainer"/>. Images are
/// streamed: each shard decodes as many as <paramref name="shardMemory"/> holds and re-reads the others from their files.
/// </summary>
internal sealed class SerialEngine(int shards = 1, int maxParallelism = 0, long shardMemory = 0) : ITrainingEngine
{
    public string Name => "serial";

    public async Task<EngineRun> TrainAsync(TrainingSpec spec, ImageInput input, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        var (images, warnings) = Sources(spec, input);
        var workers = new LocalImageWorkers(spec, images, shards, maxParallelism, shardMemory);
        TrainingResult result = await new Trainer(spec, workers, observer).RunAsync(null, cancellationToken);
        int[] shown = Enumerable.Range(0, Math.Min(input.Reconstructions, images.Count)).ToArray();
        IReadOnlyList<ImageReport> reports = await workers.ReportAsync(new ReportRequest(result.Layers.Select(l => l.Frozen).ToArray(), shown, false), cancellationToken);
        return new EngineRun(result, images.Select(i => i.Name).ToArray(), reports, warnings);
    }

    public Task<EngineImages> OpenImagesAsync(TrainingSpec spec, ImageInput input, CancellationToken cancellationToken)
    {
        var (images, warnings) = Sources(spec, input);
        var workers = new LocalImageWorkers(spec, images, shards, maxParallelism, shardMemory);
        return Task.FromResult(new EngineImages(workers, [.. images.Select(i => i.Name)], warnings));
    }

    /// <summary>
    /// The files as re-readable sources (grey unless the spec keeps RGB, preprocessed as the spec says), from
    /// <see cref="UsableFiles"/>.
    /// </summary>
    public static (IReadOnlyList<IImageSource> Images, IReadOnlyList<string> Warnings) Sources(TrainingSpec spec, ImageInput input)
    {
        var (files, warnings) = UsableFiles(spec, input);
        ImageLoadOptions options = input.Options with { Grey = spec.Grey };
        return ([.. files.Select(f => (IImageSource)DecodedImageSource.FromFile(f, options, spec.Preprocessing))], warnings);
    }

    /// <summary>
    /// The files to run on, without decoding them (they are read when used). With <see cref="ImageLoadOptions.SkipBad"/>,
    /// each file is decoded once up front, one at a time, to drop unreadable ones and ones too small for the filters.
    /// </summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Warnings) UsableFiles(TrainingSpec spec, ImageInput input)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(input);
        ImageLoadOptions options = input.Options with { Grey = spec.Grey };
        options.Validate();
        if (input.Files.Count == 0) throw new ImageLoadException("(no files)", "no images given");
        var files = new List<string>();
        var warnings = new List<string>();
        foreach (string file in input.Files)
        {
            if (options.SkipBad)
            {
                // --skip-bad: unreadable images, and images too small for the spec's filters, become warnings.
                try
                {
                    Tensor3 pixels = ImageDecoder.DecodeFile(file, options);
                    if (ImageSizeRequirement.Check(spec, pixels.Rows, pixels.Cols) is { } small)
                        throw new ImageLoadException(file, Commands.SpecOptions.Describe(new SpecException(small.Problem, small.Field)));
                }
                catch (ImageLoadException ex)
                {
                    warnings.Add(ex.Message);
                    continue;
                }
            }
            files.Add(file);
        }
        if (files.Count == 0)
            throw new ImageLoadException("the images", $"no usable images; skipped {warnings.Count}: {string.Join("; ", warnings)}");
        return (files, warnings);
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
