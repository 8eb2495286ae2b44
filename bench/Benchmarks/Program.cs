using System.Runtime.Intrinsics;
using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Distributed.Benchmarks;

// A short in-process job: one launch, two warm-up and seven measured iterations (medians of seven ride out a shared,
// noisy machine better than ShortRun's three), so the whole set takes about three minutes, most of it the naive loops.
IConfig config = DefaultConfig.Instance
    .AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(7)
        .WithMinIterationTime(TimeInterval.FromMilliseconds(200))
        .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short"))
    .AddColumn(new ThroughputColumn(percentOfPeak: false), new ThroughputColumn(percentOfPeak: true))
    .AddFilter(new SimpleFilter(b => b.Descriptor.WorkloadMethod.Name != nameof(FmaPeakBenchmarks.Vector512Fma) || Vector512.IsHardwareAccelerated))
    .WithOptions(ConfigOptions.JoinSummary);

Type[] benchmarks = [typeof(FmaPeakBenchmarks), typeof(LayerOperatorBenchmarks), typeof(NaiveLayerBenchmarks), typeof(SparseMapsBenchmarks)];
string[] arguments = args.Length == 0 ? ["--filter", "*"] : args;
IEnumerable<Summary> summaries = BenchmarkSwitcher.FromTypes(benchmarks).Run(arguments, config);

Console.WriteLine();
Console.WriteLine($"Vector512 accelerated: {Vector512.IsHardwareAccelerated}; Vector256 accelerated: {Vector256.IsHardwareAccelerated}; cores: {Environment.ProcessorCount}");
foreach (Summary summary in summaries)
{
    Console.WriteLine(Throughput.Table(summary));
    string sparse = SparseMapsBenchmarks.Table(summary);
    if (sparse.Length > 0) Console.WriteLine(sparse);
}
if (args.Length == 0)
{
    Console.WriteLine();
    Console.WriteLine(BestCaseProbe.Table());
}
