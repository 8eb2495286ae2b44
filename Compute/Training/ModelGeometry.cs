using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;

namespace Distributed.Compute.Training;

/// <summary>
/// The shapes a spec gives one image size, layer by layer: layer 0 reads the image [C, H, W]; layer j+1 reads layer j's
/// maps, pooled by <see cref="LayerSpec.Pool"/> when it has one. The one place that turns a spec into operators.
/// </summary>
public static class ModelGeometry
{
    /// <summary>
    /// The reconstruction path R of the bottom <paramref name="depth"/> layers for images of [planes, rows, cols]
    /// (layer operators with the spec's connectivity, and the poolings between them).
    /// </summary>
    /// <exception cref="SpecException">A layer's filter does not fit its (pooled) input.</exception>
    public static PixelOperator PixelOperator(TrainingSpec spec, int planes, int rows, int cols, int depth)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (depth < 1 || depth > spec.Layers.Count) throw new ArgumentOutOfRangeException(nameof(depth), depth, $"the spec has {spec.Layers.Count} layers.");
        var layers = new List<LayerOperator>(depth);
        var pools = new List<MaxPool3D?>(depth - 1);
        for (int j = 0; j < depth; j++)
        {
            LayerSpec layer = spec.Layers[j];
            if (layer.FilterSize > rows || layer.FilterSize > cols)
                throw new SpecException($"layer {j + 1}: layers.filterSize = {layer.FilterSize} is larger than its input ({cols}×{rows}{(j > 0 ? " after the layers below" : "")}); use smaller filters or pools, or larger images.", "layers.filterSize");
            var geometry = new LayerGeometry(planes, layer.Maps, layer.FilterSize, rows, cols, spec.Boundary);
            layers.Add(new LayerOperator(geometry, spec.ConnectivityFor(j, planes)));
            if (j == depth - 1) break;
            MaxPool3D? pool = layer.Pool is { } size ? new MaxPool3D(size, layer.Maps, geometry.MapRows, geometry.MapCols) : null;
            pools.Add(pool);
            (planes, rows, cols) = pool is null ? (layer.Maps, geometry.MapRows, geometry.MapCols) : (pool.PooledMaps, pool.PooledRows, pool.PooledCols);
        }
        return new PixelOperator(layers, pools);
    }
}
