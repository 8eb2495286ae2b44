using System.CommandLine;
using System.Globalization;
using Distributed.Client.Bench;

namespace Distributed.Client.Commands;

/// <summary>`bench sporco-b1`: time-to-objective on SPORCO's standard problem, against SPORCO's recorded time.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The sporco-b1 anchor folder.", DefaultValueFactory = _ => Path.Combine("..", "shared", "anchors", "sporco-b1") };
        var fista = new Option<int>("--fista-iterations") { Description = "FISTA iterations per epoch (warm-started).", DefaultValueFactory = _ => 8 };
        var filterSteps = new Option<int>("--filter-steps") { Description = "Projected-gradient steps per filter update.", DefaultValueFactory = _ => 8 };
        var maxSeconds = new Option<double>("--max-seconds") { Description = "Give up after this long.", DefaultValueFactory = _ => 120 };
        var repeat = new Option<int>("--repeat") { Description = "Runs; the median time is reported.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var trace = new Option<bool>("--trace") { Description = "Print the objective after every epoch." };

        var b1 = new Command("sporco-b1", "Learn SPORCO's B1 problem from its own start and report the time to reach SPORCO's final objective.");
        foreach (Option o in new Option[] { data, fista, filterSteps, maxSeconds, repeat, threads, trace }) b1.Options.Add(o);
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
            var outcomes = new List<SporcoB1.Outcome>();
            for (int run = 0; run < Math.Max(1, r.GetValue(repeat)); run++)
            {
                SporcoB1.Outcome outcome = await SporcoB1.RunAsync(anchor, r.GetValue(fista), r.GetValue(filterSteps), r.GetValue(maxSeconds), threadCount, ct);
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
        return bench;
    }
}
