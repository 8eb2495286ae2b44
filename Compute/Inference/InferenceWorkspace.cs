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
        LayerGeometry g = op.Geometry;
        Residual = g.NewImage();
        Image2 = g.NewImage();
        Maps1 = g.NewMaps();
        Maps2 = g.NewMaps();
        Maps3 = g.NewMaps();
        Maps4 = g.NewMaps();
        Maps5 = g.NewMaps();
    }

    public LayerOperator Operator { get; }
    public LayerGeometry Geometry => Operator.Geometry;

    internal Tensor3 Residual { get; }
    internal Tensor3 Image2 { get; }
    internal Tensor3 Maps1 { get; }
    internal Tensor3 Maps2 { get; }
    internal Tensor3 Maps3 { get; }
    internal Tensor3 Maps4 { get; }
    internal Tensor3 Maps5 { get; }

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
