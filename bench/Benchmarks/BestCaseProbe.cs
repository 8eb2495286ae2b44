using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;

namespace Distributed.Benchmarks;

/// <summary>
/// A supplement for shared machines: the fastest of many timed calls of each single-thread case. When other
/// processes share the cores, the BenchmarkDotNet medians (the FMA peak's included) count the time slices they take;
/// the fastest call is the one that ran undisturbed, so best against best is the fairer "% of one core". Process CPU
/// time is no substitute: Linux accounts it in scheduler ticks, too coarse for calls of a few milliseconds.
/// Not a replacement for the BenchmarkDotNet table, which is the record.
/// </summary>
internal static class BestCaseProbe
{
    public static string Table()
    {
        var peakProbe = new FmaPeakBenchmarks();
        bool wide = Vector512.IsHardwareAccelerated;
        double peakFlops = 2.0 * FmaPeakBenchmarks.Iterations * (wide ? FmaPeakBenchmarks.Chains512 * 16 : FmaPeakBenchmarks.Chains256 * 8);
        double peak = Best(() => { if (wide) peakProbe.Vector512Fma(); else peakProbe.Vector256Fma(); }, peakFlops, calls: 100);
        var lines = new List<string>
        {
            "| Benchmark (fastest call) | Size | Threads | Calls | GFLOP/s | % of one core's peak |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            Row(wide ? "Vector512Fma" : "Vector256Fma", "–", 100, peak, peak),
        };
        foreach (int size in new[] { 128, 512 })
        {
            int k = LayerOperatorBenchmarks.Maps, s = LayerOperatorBenchmarks.FilterSize;
            double flops = 2.0 * k * s * s * ((double)size * size + (double)(size + s - 1) * (size + s - 1));
            var fast = new LayerOperatorBenchmarks { Size = size, Threads = 1 };
            fast.Setup();
            int calls = size == 128 ? 200 : 20;
            lines.Add(Row("SynthesizeAndAdjoint", size.ToString(CultureInfo.InvariantCulture), calls, Best(fast.SynthesizeAndAdjoint, flops, calls), peak));
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string Row(string name, string size, int calls, double gflops, double peak) =>
        FormattableString.Invariant($"| {name} | {size} | 1 | {calls} | {gflops:F1} | {gflops / peak:P0} |");

    /// <summary>GFLOP/s of the fastest of <paramref name="calls"/> calls, after two warm-up calls.</summary>
    private static double Best(Action action, double flopsPerCall, int calls)
    {
        action();
        action();
        double fastest = double.MaxValue;
        for (int c = 0; c < calls; c++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return flopsPerCall / fastest / 1e9;
    }
}
