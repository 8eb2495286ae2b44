using Distributed.Compute.Tensors;

namespace Distributed.Compute.Adaptive;

/// <summary>
/// Scratch space for pixel-space inference of one image size: the reconstruction path R_l and the buffers of
/// <see cref="AdaptiveInference"/>, allocated once and reused across iterations and images. Not thread-safe.
/// </summary>
public sealed class AdaptiveWorkspace
{
    public AdaptiveWorkspace(PixelOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        Operator = op;
        Residual = op.NewImage();
        Maps1 = op.NewMaps();
        Maps2 = op.NewMaps();
        Maps3 = op.NewMaps();
        Maps4 = op.NewMaps();
        Maps5 = op.NewMaps();
        Backup = op.Pools.Select(p => p?.NewSwitches()).ToArray();
        Candidates = op.Pools.Select(p => p?.NewSwitches()).ToArray();
        Energies = op.Layers.Select(l => new double[l.Geometry.Maps]).ToArray();
    }

    public PixelOperator Operator { get; }

    internal Tensor3 Residual { get; }
    internal Tensor3 Maps1 { get; }
    internal Tensor3 Maps2 { get; }
    internal Tensor3 Maps3 { get; }
    internal Tensor3 Maps4 { get; }
    internal Tensor3 Maps5 { get; }

    /// <summary>Per lower layer: the switches before a tentative refresh, and the proposed ones.</summary>
    internal int[]?[] Backup { get; }
    internal int[]?[] Candidates { get; }

    /// <summary>Per layer and map: the estimated pixel energy ‖R_j e_q‖² of one unit (see <see cref="AdaptiveInference"/>).</summary>
    internal double[][] Energies { get; }
}
