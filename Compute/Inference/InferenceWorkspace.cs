using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// Scratch space for inferring one image of one geometry: the layer operator and a few map- and image-shaped buffers,
/// allocated once and reused across solver iterations and images. Not thread-safe: one per worker thread.
/// </summary>
public sealed class InferenceWorkspace
{
    public InferenceWorkspace(LayerOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        Operator = op;
    }

    public LayerOperator Operator { get; }
    public LayerGeometry Geometry => Operator.Geometry;

    /// <summary>Where a tiled coordinate-descent solve runs its tiles; null: in this process, on the operator's threads.</summary>
    public ITileHost? Tiles { get; set; }

    // Allocated on first use: each solver needs only some of them (coordinate descent one map buffer, FISTA four), and
    // on a large image every map-shaped buffer is K·H·W floats (512 MiB for 32 maps of 2048²).
    private Tensor3? _residual, _image2, _maps1, _maps2, _maps3, _maps4, _maps5;

    internal Tensor3 Residual => _residual ??= Geometry.NewImage();
    internal Tensor3 Image2 => _image2 ??= Geometry.NewImage();
    internal Tensor3 Maps1 => _maps1 ??= Geometry.NewMaps();
    internal Tensor3 Maps2 => _maps2 ??= Geometry.NewMaps();
    internal Tensor3 Maps3 => _maps3 ??= Geometry.NewMaps();
    internal Tensor3 Maps4 => _maps4 ??= Geometry.NewMaps();
    internal Tensor3 Maps5 => _maps5 ??= Geometry.NewMaps();

    /// <summary>Cached Lipschitz bound ‖FᵀF‖ for the filter version it was computed for.</summary>
    internal (long Version, double Value)? Lipschitz { get; set; }

    private float[]? _mapLastMaps, _mapLastCorrelation;

    /// <summary>Coordinate descent's map-last copies of z and c, at least <paramref name="length"/> floats each, kept for reuse.</summary>
    internal (float[] Maps, float[] Correlation) MapLastBuffers(int length)
    {
        if (_mapLastMaps is null || _mapLastMaps.Length < length)
        {
            _mapLastMaps = new float[length];
            _mapLastCorrelation = new float[length];
        }
        return (_mapLastMaps, _mapLastCorrelation!);
    }

    /// <summary>Cached FᵀF stencil and atom norms for the filter version they were computed for (coordinate descent).</summary>
    internal (long Version, FilterGram Gram, CoordinateDescentInference.AtomNorms Norms)? Gram { get; set; }
}
