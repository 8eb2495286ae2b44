using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Reports;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Benchmarks;

/// <summary>
/// Dense against sparse kernels on maps of a given density: <c>LayerOperator.Synthesize</c> and
/// <c>LayerOperator.FilterGradient</c> for the sporco-b1 shape (128×128, K = 64, s = 8, C = 1, circular), one thread,
/// with the path pinned. The sparse rows include the gather's scan of the maps, as the automatic path pays it.
/// The crossover sets <see cref="LayerOperator.SparseDensityThreshold"/>.
/// </summary>
public class SparseMapsBenchmarks
{
    public const int Size = 128, Maps = 64, FilterSize = 8;

    private LayerOperator _op = null!;
    private Tensor3 _z = null!, _y = null!, _r = null!;
    private FilterBank _f = null!, _fg = null!;
    private readonly SparseMaps _gathered = new();

    [Params(0.002, 0.01, 0.05, 0.2, 0.35, 0.5)]
    public double Density { get; set; }

    [Params("dense", "sparse")]
    public string Path { get; set; } = "dense";

    [GlobalSetup]
    public void Setup()
    {
        var geometry = new LayerGeometry(1, Maps, FilterSize, Size, Size, Boundary.Circular);
        _op = new LayerOperator(geometry, Connectivity.Full(Maps, 1)) { Path = Path == "sparse" ? MapsPath.Sparse : MapsPath.Dense };
        _z = geometry.NewMaps();
        var rng = new Random(3);
        for (int i = 0; i < _z.Length; i++)
        {
            bool keep = rng.NextDouble() < Density;
            float v = rng.NextSingle() * 2f - 1f;
            if (keep) _z.Data[i] = v == 0 ? 0.5f : v;
        }
        _f = geometry.NewFilters();
        _fg = geometry.NewFilters();
        _y = geometry.NewImage();
        _r = geometry.NewImage();
        Inputs.Fill(_f.Data, 4);
        Inputs.Fill(_r.Data, 5);
    }

    [Benchmark]
    public void Synthesize() => _op.Synthesize(_z, _f, _y);

    [Benchmark]
    public void FilterGradient() => _op.FilterGradient(_z, _r, _fg);

    /// <summary>The scan alone, which the sparse rows include (its "dense" row is the same work; the table shows the sparse one).</summary>
    [Benchmark]
    public int Gather()
    {
        _gathered.Gather(_z);
        return _gathered.Count;
    }

    /// <summary>Median ms per call, dense and sparse side by side per density, as Markdown (empty when the summary has none).</summary>
    public static string Table(Summary summary)
    {
        var cells = new Dictionary<(double Density, string Path, string Method), double>();
        foreach (var benchmark in summary.BenchmarksCases)
        {
            if (benchmark.Descriptor.Type != typeof(SparseMapsBenchmarks)) continue;
            BenchmarkReport? report = summary[benchmark];
            if (report?.ResultStatistics is null) continue;
            double density = (double)benchmark.Parameters["Density"];
            string path = (string)benchmark.Parameters["Path"];
            cells[(density, path, benchmark.Descriptor.WorkloadMethod.Name)] = report.ResultStatistics.Median / 1e6;
        }
        if (cells.Count == 0) return "";
        var lines = new List<string>
        {
            "| Density | Gather (in the sparse rows) | Synthesize dense | Synthesize sparse | speed-up | FilterGradient dense | FilterGradient sparse | speed-up |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        };
        foreach (double density in cells.Keys.Select(k => k.Density).Distinct().Order())
        {
            string Cell(string path, string method) => cells.TryGetValue((density, path, method), out double ms) ? ms.ToString("F3", CultureInfo.InvariantCulture) + " ms" : "–";
            string Ratio(string method) => cells.TryGetValue((density, "dense", method), out double d) && cells.TryGetValue((density, "sparse", method), out double s)
                ? (d / s).ToString("F1", CultureInfo.InvariantCulture) + "×" : "–";
            lines.Add(FormattableString.Invariant(
                $"| {density * 100:0.##} % | {Cell("sparse", nameof(Gather))} | {Cell("dense", nameof(Synthesize))} | {Cell("sparse", nameof(Synthesize))} | {Ratio(nameof(Synthesize))} | {Cell("dense", nameof(FilterGradient))} | {Cell("sparse", nameof(FilterGradient))} | {Ratio(nameof(FilterGradient))} |"));
        }
        return string.Join(Environment.NewLine, lines);
    }
}
