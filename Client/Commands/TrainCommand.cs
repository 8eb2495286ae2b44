using System.CommandLine;
using System.Globalization;
using Distributed.Client.Cluster;
using Distributed.Client.Console;
using Distributed.Client.Engines;
using Distributed.Client.Output;
using Distributed.Compute.Imaging;
using Distributed.Compute.Learning;
using Distributed.Compute.Training;
using Distributed.Compute;

namespace Distributed.Client.Commands;

/// <summary>`train`: learn a Deconvolutional Network from a folder of images and write the output folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var spec = new SpecOptions();
        var images = new Option<string[]>("--images") { Description = "A folder of images (PNG, JPEG, PGM/PPM), or image files. Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Output folder: created, or replaced whole if an earlier run wrote it (written aside and swapped in at the end; must lie outside --images).", DefaultValueFactory = _ => "runs/latest" };
        var engine = new Option<string>("--engine") { Description = "serial (this process) or distributed (Orleans: --cluster, or an in-process silo).", DefaultValueFactory = _ => EngineOptions.DefaultEngine };
        var engineOptions = new EngineOptions();
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images, and images smaller than the filters, with a warning instead of failing." };
        var maxPixels = new Option<long>("--max-pixels") { Description = "Largest image accepted, in pixels.", DefaultValueFactory = _ => ImageLoadOptions.Default.MaxPixels };
        var reconstructions = new Option<int>("--reconstructions") { Description = "Images written as reconstruction-*.png.", DefaultValueFactory = _ => 4 };
        var detach = new Option<bool>("--detach") { Description = "Submit to the --cluster, print the job id and return; follow with `watch`, collect with `fetch`." };

        var command = new Command("train", "Learn a Deconvolutional Network (Zeiler et al. 2010) layer by layer and write filters, reconstructions, metrics and model.json.");
        foreach (Option o in new Option[] { images, output, engine, skipBad, maxPixels, reconstructions, detach }) command.Options.Add(o);
        engineOptions.AddTo(command);
        spec.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            TextWriter error = r.InvocationConfiguration.Error;
            try
            {
                TrainingSpec trainingSpec = spec.Build(r);
                long pixelLimit = r.GetValue(maxPixels);
                if (pixelLimit < 1) throw new SpecException($"--max-pixels = {pixelLimit}; allowed ≥ 1 (the pixels of the largest image accepted).", "max-pixels");
                if ((long)trainingSpec.CoordinateDescent.Tile * trainingSpec.CoordinateDescent.Tile > pixelLimit)
                    throw new SpecException($"--tile {trainingSpec.CoordinateDescent.Tile}: a {trainingSpec.CoordinateDescent.Tile}×{trainingSpec.CoordinateDescent.Tile} tile is larger than the largest image accepted (--max-pixels {pixelLimit}); allowed up to {(long)Math.Sqrt(pixelLimit)}.", "tile");
                string[] given = ImageArguments(r.GetValue(images));
                var input = new ImageInput(
                    ResolveImages(given, error),
                    ImageLoadOptions.Default with { SkipBad = r.GetValue(skipBad), MaxPixels = pixelLimit },
                    Math.Max(0, r.GetValue(reconstructions)));
                bool detached = r.GetValue(detach);
                if (detached && engineOptions.Cluster.Flags.ClusterAddress(r) is null or { Embedded: true })
                    throw new UserException("--detach needs --cluster: a job on the in-process silo ends with this process.");
                // Checked (and the staging folder made) before any work, so a bad --out never costs a training run.
                using StagedOutput? staged = detached ? null : StagedOutput.Begin(r.GetValue(output), "--out", given, ct);
                await using ITrainingEngine trainingEngine = await engineOptions.CreateAsync(r, detached ? "distributed" : r.GetValue(engine)!, ct);
                if (detached)
                {
                    var submitted = await ((DistributedEngine)trainingEngine).SubmitAsync(trainingSpec, input, ct);
                    foreach (string warning in submitted.Warnings) error.WriteLine($"warning: {warning}");
                    r.InvocationConfiguration.Output.WriteLine(submitted.Id);
                    return 0;
                }
                EngineRun run = await TrainingProgressBar.RunAsync(r.InvocationConfiguration.Output, $"training ({trainingEngine.Name})", observer => trainingEngine.TrainAsync(trainingSpec, input, observer, ct));
                foreach (string warning in run.Warnings.Concat(RunWarnings.ZeroMaps(run.Result))) error.WriteLine($"warning: {warning}");
                RunFolder.Write(staged!, run, trainingEngine.Name, "train");
                PrintSummary(r.InvocationConfiguration.Output, run, staged!.Path);
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                error.WriteLine($"train: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>The --images arguments; none means the bundled samples.</summary>
    internal static string[] ImageArguments(string[]? given) => given is null || given.Length == 0 ? [SamplesFolder()] : given;

    /// <summary>
    /// A folder's images (sorted), or the files given. Files in a folder that look like images in a format not read
    /// here (TIFF, GIF, BMP, WebP, …) are named in one warning line on <paramref name="warnings"/>.
    /// </summary>
    internal static IReadOnlyList<string> ResolveImages(string[] given, TextWriter warnings)
    {
        var files = new List<string>();
        var unsupported = new List<string>();
        foreach (string path in given)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(ImageSet.ListFolder(path));
                unsupported.AddRange(ImageSet.ListUnsupported(path).Select(f => Path.GetFileName(f)!));
            }
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder.");
        }
        if (unsupported.Count > 0)
            warnings.WriteLine($"warning: skipped {unsupported.Count} file{(unsupported.Count == 1 ? "" : "s")} in a format not read here (use PNG, JPEG or binary PGM/PPM): {string.Join(", ", unsupported)}");
        return files;
    }

    /// <summary>The bundled sample photos, copied next to the executable at build time.</summary>
    internal static string SamplesFolder() => Path.Combine(AppContext.BaseDirectory, "samples", "images");

    private static void PrintSummary(TextWriter output, EngineRun run, string outDir)
    {
        // The summary's E is the final pass from z = 0 with the trained filters; the last epoch's E was measured with that
        // epoch's filters (before its update), from warm-started maps. They differ either way; both are printed so the
        // difference is not read as a regression.
        IReadOnlyList<FilterStructureSummary> structure = NetworkStructure.Measure(run.Result.Spec, run.Result.Layers);
        foreach (LayerResult layer in run.Result.Layers)
        {
            EpochMetrics[] epochs = run.Result.Metrics.Where(m => m.Layer == layer.Layer + 1).ToArray();
            string last = epochs.Length == 0 ? "no epochs: random filters" : string.Create(CultureInfo.InvariantCulture, $"last epoch {epochs[^1].Objective:G6}, before its update");
            FilterStructureSummary s = structure[layer.Layer];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"layer {layer.Layer + 1}: {layer.Filters.Maps} maps of {layer.Filters.Size}×{layer.Filters.Size}, {epochs.Length} epochs, E = {layer.Final.Objective:G6} (final pass from z = 0; {last}), nonzero {layer.Final.NonzeroFraction:P2}, PSNR {layer.Final.MeanPsnr:F2} dB"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"         filters: median cosine to their random start {s.MedianCosineToStart:F2}, orientation concentration {s.MedianOrientationConcentration:F2} (start {s.StartMedianOrientationConcentration:F2})"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.ImageNames.Count} images, {run.Result.Elapsed.TotalSeconds:F1} s; wrote {Path.GetFullPath(outDir)}"));
    }
}
