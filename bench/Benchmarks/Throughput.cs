using System.Globalization;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Distributed.Benchmarks;

/// <summary>
/// Floating-point work per benchmark call, and GFLOP/s against the measured FMA peak. A layer operator counts
/// 2·K·C·s² flops per output pixel: synthesis writes H×W pixels, the adjoint (H+s−1)×(W+s−1).
/// </summary>
internal static class Throughput
{
    public static double? Flops(BenchmarkCase benchmark)
    {
        string method = benchmark.Descriptor.WorkloadMethod.Name;
        switch (method)
        {
            case nameof(FmaPeakBenchmarks.Vector512Fma):
                return 2.0 * FmaPeakBenchmarks.Iterations * FmaPeakBenchmarks.Chains512 * Vector512<float>.Count;
            case nameof(FmaPeakBenchmarks.Vector256Fma):
                return 2.0 * FmaPeakBenchmarks.Iterations * FmaPeakBenchmarks.Chains256 * Vector256<float>.Count;
            case nameof(LayerOperatorBenchmarks.SynthesizeAndAdjoint):
            case nameof(NaiveLayerBenchmarks.NaiveSynthesizeAndAdjoint):
                int n = (int)benchmark.Parameters["Size"];
                int k = LayerOperatorBenchmarks.Maps, s = LayerOperatorBenchmarks.FilterSize;
                return 2.0 * k * s * s * ((double)n * n + (double)(n + s - 1) * (n + s - 1));
            default:
                return null;
        }
    }

    /// <summary>GFLOP/s from the median time of one call.</summary>
    public static double? Gflops(Summary summary, BenchmarkCase benchmark)
    {
        BenchmarkReport? report = summary[benchmark];
        double? flops = Flops(benchmark);
        if (report?.ResultStatistics is null || flops is null) return null;
        return flops.Value / report.ResultStatistics.Median; // flops per ns = GFLOP/s
    }

    /// <summary>One core's peak: the FMA benchmark of the widest width this machine accelerates.</summary>
    public static double? Peak(Summary summary)
    {
        string method = Vector512.IsHardwareAccelerated ? nameof(FmaPeakBenchmarks.Vector512Fma) : nameof(FmaPeakBenchmarks.Vector256Fma);
        BenchmarkCase? peak = summary.BenchmarksCases.FirstOrDefault(b => b.Descriptor.WorkloadMethod.Name == method);
        return peak is null ? null : Gflops(summary, peak);
    }

    public static string Describe(BenchmarkCase benchmark)
    {
        string parameters = string.Join(", ", benchmark.Parameters.Items.Select(p => $"{p.Name}={p.Value}"));
        return parameters.Length == 0 ? benchmark.Descriptor.WorkloadMethod.Name : $"{benchmark.Descriptor.WorkloadMethod.Name} ({parameters})";
    }

    /// <summary>The GFLOP/s table the README quotes, as Markdown.</summary>
    public static string Table(Summary summary)
    {
        double? peak = Peak(summary);
        var lines = new List<string>
        {
            "| Benchmark | Size | Threads | Median | GFLOP/s | % of one core's peak |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        };
        foreach (BenchmarkCase benchmark in summary.BenchmarksCases)
        {
            BenchmarkReport? report = summary[benchmark];
            double? gflops = Gflops(summary, benchmark);
            if (report?.ResultStatistics is null || gflops is null) continue;
            string size = benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Size")?.Value?.ToString() ?? "–";
            string threads = benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value?.ToString()
                ?? (benchmark.Descriptor.Type == typeof(FmaPeakBenchmarks) || benchmark.Descriptor.Type == typeof(NaiveLayerBenchmarks) ? "1" : "–");
            double ms = report.ResultStatistics.Median / 1e6;
            string percent = peak is null ? "–" : (gflops.Value / peak.Value).ToString("P0", CultureInfo.InvariantCulture);
            lines.Add(FormattableString.Invariant($"| {benchmark.Descriptor.WorkloadMethod.Name} | {size} | {threads} | {ms:F2} ms | {gflops.Value:F1} | {percent} |"));
        }
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A summary column: GFLOP/s of the median call, or that as a share of the measured one-core FMA peak.</summary>
internal sealed class ThroughputColumn(bool percentOfPeak) : IColumn
{
    public string Id => percentOfPeak ? "PercentOfPeak" : "Gflops";
    public string ColumnName => percentOfPeak ? "% of peak" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => percentOfPeak ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => percentOfPeak
        ? "GFLOP/s over one core's measured FMA peak (the widest accelerated FMA benchmark)"
        : "Floating-point operations per second of the median call, in 10^9";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? gflops = Throughput.Gflops(summary, benchmarkCase);
        if (gflops is null) return "–";
        if (!percentOfPeak) return gflops.Value.ToString("F1", CultureInfo.InvariantCulture);
        double? peak = Throughput.Peak(summary);
        return peak is null ? "–" : (gflops.Value / peak.Value).ToString("P0", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
