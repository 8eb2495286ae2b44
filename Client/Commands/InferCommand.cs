using System.CommandLine;
using System.Globalization;
using System.Text;
using Distributed.Client.Engines;
using Distributed.Client.Output;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>`infer`: apply a trained model to new images; write reconstructions, per-layer metrics and (optionally) maps.</summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A folder written by `train` (model.json + filters-L*.npy).", Required = true };
        var images = new Option<string[]>("--images") { Description = "A folder of images or image files. Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Output folder: created, or replaced whole if an earlier run wrote it (outside --images and --model).", DefaultValueFactory = _ => "runs/infer" };
        var saveMaps = new Option<bool>("--save-maps") { Description = "Also write each image's feature maps of every layer as maps-{image}-L{n}.npy (float32 [K, rows, cols]); index.json names each file's image." };
        var reconstructions = new Option<int>("--reconstructions") { Description = "Images written as reconstruction-*.png (0: all).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images, and images smaller than the filters, with a warning instead of failing." };

        var command = new Command("infer", "Infer feature maps for new images with a trained model; write reconstructions, metrics and optionally the maps.");
        foreach (Option o in new Option[] { model, images, output, saveMaps, reconstructions, threads, skipBad }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            TextWriter error = r.InvocationConfiguration.Error;
            try
            {
                string modelFolder = r.GetValue(model)!;
                var (manifest, layers) = ModelFolder.Load(modelFolder);
                string[] given = TrainCommand.ImageArguments(r.GetValue(images));
                var input = new ImageInput(TrainCommand.ResolveImages(given, error), ImageLoadOptions.Default with { SkipBad = r.GetValue(skipBad) }, 0);
                using StagedOutput staged = StagedOutput.Begin(r.GetValue(output), "--out", [.. given, modelFolder], ct);
                var (loaded, warnings) = SerialEngine.LoadPreprocessed(manifest.Spec, input);
                foreach (string warning in warnings) error.WriteLine($"warning: {warning}");
                var workers = new LocalImageWorkers(manifest.Spec, loaded, 1, r.GetValue(threads));
                int shown = r.GetValue(reconstructions) is > 0 and var n ? Math.Min(n, loaded.Count) : loaded.Count;
                bool maps = r.GetValue(saveMaps);
                ModelInferenceResult result = await ModelInference.RunAsync(workers, layers, Enumerable.Range(0, maps ? loaded.Count : shown).ToArray(), maps, ct);
                for (int l = 0; l < result.Layers.Count; l++)
                    if (RunWarnings.ZeroMaps(l, result.Layers[l], manifest.Spec.Layers[l].Lambda) is { } zero) error.WriteLine($"warning: {zero}");
                OutputFolder folder = staged.Folder;
                var names = new OutputNames(loaded.Select(i => i.Name));
                RunFolder.WriteReconstructions(folder, names, result.Reports.Where(report => report.Image < shown));
                foreach (ImageReport report in result.Reports)
                    if (report.Maps is not null)
                        for (int l = 0; l < report.Maps.Count; l++)
                            folder.WriteBytes($"maps-{names.StemOf(report.Image)}-L{l + 1}.npy", NpyFile.ToBytes(report.Maps[l]));
                var csv = new StringBuilder("layer,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,images\n");
                for (int l = 0; l < result.Layers.Count; l++)
                {
                    InferenceTotals t = result.Layers[l];
                    csv.Append(string.Create(CultureInfo.InvariantCulture, $"{l + 1},{t.Objective:R},{t.DataTerm:R},{t.SparsityTerm:R},{t.NonzeroFraction:R},{t.MeanPsnr:R},{t.Images}\n"));
                    r.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"layer {l + 1}: E = {t.Objective:G6}, nonzero {t.NonzeroFraction:P2}, PSNR {t.MeanPsnr:F2} dB over {t.Images} images"));
                }
                folder.WriteText("inference.csv", csv.ToString());
                staged.Commit("infer", names.Entries);
                r.InvocationConfiguration.Output.WriteLine($"wrote {staged.Path}");
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                error.WriteLine($"infer: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }
}
