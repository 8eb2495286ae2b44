using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;

namespace Distributed.Benchmarks;

/// <summary>
/// A supplement for shared machines: GFLOP per second of this process's CPU time rather than of wall time. When other
/// processes share the cores, wall time counts the slices they take and the BenchmarkDotNet figures (peak included)
/// sink with the load; CPU time counts only the cycles this code ran, so single-thread results stay comparable with
/// the FMA peak. Best of five repetitions, after a warm-up call. Not a substitute for the BenchmarkDotNet table.
/// </summary>
internal static class CpuTimeProbe
{
    public static string Table()
    {
        var peakProbe = new FmaPeakBenchmarks();
        bool wide = Vector512.IsHardwareAccelerated;
        double peakFlops = 2.0 * FmaPeakBenchmarks.Iterations * (wide ? FmaPeakBenchmarks.Chains512 * 16 : FmaPeakBenchmarks.Chains256 * 8);
        double peak = Best(() => { if (wide) peakProbe.Vector512Fma(); else peakProbe.Vector256Fma(); }, peakFlops, calls: 5);
        var lines = new List<string>
        {
            "| Benchmark (CPU time) | Size | Threads | GFLOP per CPU-second | % of one core's peak |",
            "| --- | ---: | ---: | ---: | ---: |",
            Row(wide ? "Vector512Fma" : "Vector256Fma", "–", 1, peak, peak),
        };
        foreach (int size in new[] { 128, 512 })
        {
            int k = LayerOperatorBenchmarks.Maps, s = LayerOperatorBenchmarks.FilterSize;
            double flops = 2.0 * k * s * s * ((double)size * size + (double)(size + s - 1) * (size + s - 1));
            var fast = new LayerOperatorBenchmarks { Size = size, Threads = 1 };
            fast.Setup();
            lines.Add(Row("SynthesizeAndAdjoint", size.ToString(CultureInfo.InvariantCulture), 1, Best(fast.SynthesizeAndAdjoint, flops, calls: size == 128 ? 8 : 1), peak));
            var naive = new NaiveLayerBenchmarks { Size = size };
            naive.Setup();
            lines.Add(Row("NaiveSynthesizeAndAdjoint", size.ToString(CultureInfo.InvariantCulture), 1, Best(naive.NaiveSynthesizeAndAdjoint, flops, calls: 1, repetitions: size == 128 ? 3 : 1), peak));
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string Row(string name, string size, int threads, double gflops, double peak) =>
        FormattableString.Invariant($"| {name} | {size} | {threads} | {gflops:F1} | {gflops / peak:P0} |");

    /// <summary>Best GFLOP per CPU-second over repetitions of <paramref name="calls"/> calls.</summary>
    private static double Best(Action action, double flopsPerCall, int calls, int repetitions = 5)
    {
        action();
        double best = 0;
        using var self = Process.GetCurrentProcess();
        for (int r = 0; r < repetitions; r++)
        {
            self.Refresh();
            TimeSpan start = self.TotalProcessorTime;
            for (int c = 0; c < calls; c++) action();
            self.Refresh();
            double seconds = (self.TotalProcessorTime - start).TotalSeconds;
            if (seconds > 0) best = Math.Max(best, flopsPerCall * calls / seconds / 1e9);
        }
        return best;
    }
}
