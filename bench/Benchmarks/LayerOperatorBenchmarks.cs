using BenchmarkDotNet.Attributes;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Benchmarks;

/// <summary>
/// The inference hot path: synthesis F z and its adjoint Fᵀ r for K = 64 maps of 8×8 filters over one grey plane
/// (C = 1), valid boundary, with the SIMD kernels at 1 and 2 threads.
/// </summary>
public class LayerOperatorBenchmarks
{
    public const int Maps = 64;
    public const int FilterSize = 8;

    private LayerOperator _op = null!;
    private Tensor3 _z = null!, _y = null!, _zg = null!;
    private FilterBank _f = null!;

    [Params(128, 512)]
    public int Size { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var geometry = new LayerGeometry(1, Maps, FilterSize, Size, Size, Boundary.Valid);
        _op = new LayerOperator(geometry, Connectivity.Full(Maps, 1), Threads);
        _z = geometry.NewMaps();
        _f = geometry.NewFilters();
        _y = geometry.NewImage();
        _zg = geometry.NewMaps();
        Inputs.Fill(_z.Data, 1);
        Inputs.Fill(_f.Data, 2);
    }

    [Benchmark]
    public void SynthesizeAndAdjoint()
    {
        _op.Synthesize(_z, _f, _y);
        _op.Adjoint(_y, _f, _zg);
    }
}

/// <summary>The same pair through the naive loops the project started from: the baseline.</summary>
public class NaiveLayerBenchmarks
{
    private Tensor3 _z = null!, _y = null!, _zg = null!;
    private FilterBank _f = null!;
    private Connectivity _g = null!;

    [Params(128, 512)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int k = LayerOperatorBenchmarks.Maps, s = LayerOperatorBenchmarks.FilterSize;
        var geometry = new LayerGeometry(1, k, s, Size, Size, Boundary.Valid);
        _g = Connectivity.Full(k, 1);
        _z = geometry.NewMaps();
        _f = geometry.NewFilters();
        _y = geometry.NewImage();
        _zg = geometry.NewMaps();
        Inputs.Fill(_z.Data, 1);
        Inputs.Fill(_f.Data, 2);
    }

    [Benchmark]
    public void NaiveSynthesizeAndAdjoint()
    {
        NaiveLayerLoops.Synthesize(_z, _f, _g, _y);
        NaiveLayerLoops.Adjoint(_y, _f, _g, _zg);
    }
}

internal static class Inputs
{
    /// <summary>Uniform in [−1, 1): no denormals, no overflow, nothing the kernels could shortcut.</summary>
    public static void Fill(float[] data, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextSingle() * 2f - 1f;
    }
}
