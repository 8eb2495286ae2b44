using System.CommandLine;
using System.Globalization;
using System.Text;
using Distributed.Client.Engines;
using Distributed.Client.Output;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Compute;

namespace Distributed.Client.Commands;

/// <summary>
/// `visualize`: what layer L's features draw in pixels (Zeiler, Taylor, Fergus 2011; Zeiler and Fergus 2014). For each
/// of the first maps of layer L, its strongest activations over the images, each projected alone down to pixel space
/// (<see cref="FeatureProjection"/>), beside the map's filter projected the same way; and every filter of layer L.
/// </summary>
internal static class VisualizeCommand
{
    public static Command Create()
    {
        var modelFolder = new Option<string>("--model") { Description = "A folder written by `train` (model.json + filters-L*.npy).", Required = true };
        var images = new Option<string[]>("--images") { Description = "A folder of images or image files. Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var layer = new Option<int>("--layer") { Description = "The layer whose features are shown (1 = bottom). Default: the top layer.", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "Strongest activations shown per map.", DefaultValueFactory = _ => 9 };
        var mapCount = new Option<int>("--maps") { Description = "Maps shown (the first ones of the layer).", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "runs/visualize" };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images with a warning instead of failing." };

        var command = new Command("visualize", "Project the strongest single activations and the filters of a layer down to pixels; write PNG grids.");
        foreach (Option o in new Option[] { modelFolder, images, layer, top, mapCount, output, threads, skipBad }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            TextWriter error = r.InvocationConfiguration.Error;
            try
            {
                var (manifest, frozen) = ModelFolder.Load(r.GetValue(modelFolder)!);
                TrainingSpec spec = manifest.Spec;
                int l = r.GetValue(layer) is 0 ? frozen.Count : r.GetValue(layer);
                if (l < 1 || l > frozen.Count) throw new SpecException($"--layer: {l}; the model has layers 1..{frozen.Count}.", "layer");
                int n = r.GetValue(top), shownMaps = r.GetValue(mapCount);
                if (n < 1 || n > 100) throw new SpecException($"--top: {n}; allowed 1..100.", "top");
                if (shownMaps < 1) throw new SpecException($"--maps: {shownMaps}; give at least 1.", "maps");
                FrozenLayer[] model = frozen.Take(l).ToArray();
                shownMaps = Math.Min(shownMaps, model[^1].Filters.Maps);

                string[] given = TrainCommand.ImageArguments(r.GetValue(images));
                var input = new ImageInput(TrainCommand.ResolveImages(given, error), ImageLoadOptions.Default with { SkipBad = r.GetValue(skipBad) }, 0);
                using StagedOutput staged = StagedOutput.Begin(r.GetValue(output), "--out", [.. given, r.GetValue(modelFolder)!], ct);
                var (loaded, warnings) = SerialEngine.LoadPreprocessed(spec, input);
                foreach (string warning in warnings) error.WriteLine($"warning: {warning}");
                var workers = new LocalImageWorkers(spec, loaded, 1, r.GetValue(threads));
                ModelInferenceResult inferred = await ModelInference.RunAsync(workers, model, Enumerable.Range(0, loaded.Count).ToArray(), includeMaps: true, ct);
                Dictionary<int, ImageReport> reports = inferred.Reports.ToDictionary(x => x.Image);

                // Rows: one per map; column 0 its filter, then its strongest activations, each alone in pixels.
                var projections = new Dictionary<(int Rows, int Cols), FeatureProjection>();
                var rows = new List<IReadOnlyList<Tensor3?>>();
                var csv = new StringBuilder("map,rank,image,row,col,value\n");
                int planes = loaded[0].Image.Planes;
                for (int k = 0; k < shownMaps; k++)
                {
                    var row = new List<Tensor3?> { FeatureProjection.ProjectFilter(spec, model, l - 1, planes, k) };
                    IReadOnlyList<Activation> strongest = FeatureProjection.Strongest(reports.Values.Select(x => (x.Image, x.Maps![l - 1])), k, n);
                    for (int rank = 0; rank < n; rank++)
                    {
                        if (rank >= strongest.Count)
                        {
                            row.Add(null);
                            continue;
                        }
                        Activation a = strongest[rank];
                        ImageReport report = reports[a.Image];
                        Tensor3 image = report.Input;
                        if (!projections.TryGetValue((image.Rows, image.Cols), out FeatureProjection? projection))
                            projections[(image.Rows, image.Cols)] = projection = new FeatureProjection(spec, model, l - 1, image.Planes, image.Rows, image.Cols);
                        IReadOnlyList<PoolSwitches?> switches = report.Switches?[l - 1] ?? new PoolSwitches?[l - 1];
                        Tensor3 pixels = projection.Project(a, switches);
                        row.Add(FeatureProjection.Crop(pixels, FeatureProjection.Window(spec, l - 1, a.Row, a.Col), spec.Boundary));
                        csv.Append(string.Create(CultureInfo.InvariantCulture, $"{k + 1},{rank + 1},{report.Name},{a.Row},{a.Col},{a.Value:R}\n"));
                    }
                    rows.Add(row);
                }
                OutputFolder folder = staged.Folder;
                string topFile = $"top-L{l}.png";
                folder.WriteBytes(topFile, ProjectionGrid.Render(rows, Enumerable.Range(1, shownMaps).Select(k => $"map {k}").ToArray(),
                    ["filter", .. Enumerable.Range(1, n).Select(i => $"#{i}")],
                    $"layer {l}: filter and {n} strongest activations per map, each alone in pixels ({loaded.Count} images)"));
                folder.WriteText($"top-L{l}.csv", csv.ToString());

                // Every filter of the layer in pixels, in rows of up to ⌈√K⌉.
                int maps = model[^1].Filters.Maps, perRow = (int)Math.Ceiling(Math.Sqrt(maps));
                Tensor3[] filters = Enumerable.Range(0, maps).Select(k => FeatureProjection.ProjectFilter(spec, model, l - 1, planes, k)).ToArray();
                var filterRows = filters.Chunk(perRow).Select(c => (IReadOnlyList<Tensor3?>)c.Cast<Tensor3?>().ToArray()).ToArray();
                string filterFile = $"filters-L{l}-pixels.png";
                folder.WriteBytes(filterFile, ProjectionGrid.Render(filterRows, Enumerable.Range(0, filterRows.Length).Select(i => $"{i * perRow + 1}").ToArray(), null,
                    $"layer {l}: {maps} filters in pixels{(spec.Model == NetworkModel.Adaptive && l > 1 ? " (mean over switch settings)" : "")}"));

                var (fr, fc) = FeatureProjection.Extent(spec, l - 1);
                r.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"layer {l}: {shownMaps} of {maps} maps, top {n} activations over {loaded.Count} images; a unit reaches {fr}×{fc} pixels"));
                staged.Commit("visualize", new OutputNames(loaded.Select(i => i.Name)).Entries);
                r.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(staged.Path, topFile)}, {Path.Combine(staged.Path, filterFile)}");
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                error.WriteLine($"visualize: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }
}
