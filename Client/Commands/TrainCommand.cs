using System.CommandLine;
using System.Globalization;
using Distributed.Client.Cluster;
using Distributed.Client.Console;
using Distributed.Client.Engines;
using Distributed.Client.Output;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>`train`: learn a Deconvolutional Network from a folder of images and write the output folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var spec = new SpecOptions();
        var images = new Option<string[]>("--images") { Description = "A folder of images (PNG, JPEG, PGM/PPM), or image files. Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Output folder (created; existing files are replaced).", DefaultValueFactory = _ => "runs/latest" };
        var engine = new Option<string>("--engine") { Description = "serial (this process) or distributed (Orleans: --cluster, or an in-process silo).", DefaultValueFactory = _ => EngineOptions.DefaultEngine };
        var engineOptions = new EngineOptions();
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images with a warning instead of failing." };
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
                if ((long)trainingSpec.Tile * trainingSpec.Tile > r.GetValue(maxPixels))
                    throw new SpecException($"--tile {trainingSpec.Tile}: a {trainingSpec.Tile}×{trainingSpec.Tile} tile is larger than the largest image accepted (--max-pixels {r.GetValue(maxPixels)}); allowed up to {(long)Math.Sqrt(r.GetValue(maxPixels))}.", "tile");
                var input = new ImageInput(
                    ResolveImages(r.GetValue(images)),
                    ImageLoadOptions.Default with { SkipBad = r.GetValue(skipBad), MaxPixels = r.GetValue(maxPixels) },
                    Math.Max(0, r.GetValue(reconstructions)));
                string outDir = r.GetValue(output)!;
                if (r.GetValue(detach) && engineOptions.Cluster.Flags.ClusterAddress(r) is null or { Embedded: true })
                    throw new UserException("--detach needs --cluster: a job on the in-process silo ends with this process.");
                await using ITrainingEngine trainingEngine = await engineOptions.CreateAsync(r, r.GetValue(detach) ? "distributed" : r.GetValue(engine)!, ct);
                if (r.GetValue(detach))
                {
                    var submitted = await ((DistributedEngine)trainingEngine).SubmitAsync(trainingSpec, input, ct);
                    foreach (string warning in submitted.Warnings) error.WriteLine($"warning: {warning}");
                    r.InvocationConfiguration.Output.WriteLine(submitted.Id);
                    return 0;
                }
                EngineRun run = await TrainingProgressBar.RunAsync(r.InvocationConfiguration.Output, $"training ({trainingEngine.Name})", observer => trainingEngine.TrainAsync(trainingSpec, input, observer, ct));
                foreach (string warning in run.Warnings) error.WriteLine($"warning: {warning}");
                RunFolder.Write(outDir, run, trainingEngine.Name);
                PrintSummary(r.InvocationConfiguration.Output, run, outDir);
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

    /// <summary>A folder's images (sorted), or the files given; none means the bundled samples.</summary>
    internal static IReadOnlyList<string> ResolveImages(string[]? given)
    {
        if (given is null || given.Length == 0) given = [SamplesFolder()];
        var files = new List<string>();
        foreach (string path in given)
        {
            if (Directory.Exists(path)) files.AddRange(ImageSet.ListFolder(path));
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder.");
        }
        return files;
    }

    /// <summary>The bundled sample photos, copied next to the executable at build time.</summary>
    internal static string SamplesFolder() => Path.Combine(AppContext.BaseDirectory, "samples", "images");

    private static void PrintSummary(TextWriter output, EngineRun run, string outDir)
    {
        foreach (LayerResult layer in run.Result.Layers)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"layer {layer.Layer + 1}: {layer.Filters.Maps} maps of {layer.Filters.Size}×{layer.Filters.Size}, E = {layer.Final.Objective:G6}, nonzero {layer.Final.NonzeroFraction:P2}, PSNR {layer.Final.MeanPsnr:F2} dB"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.ImageNames.Count} images, {run.Result.Elapsed.TotalSeconds:F1} s; wrote {Path.GetFullPath(outDir)}"));
    }
}
