using System.Globalization;

namespace Distributed.Compute.Training;

/// <summary>
/// One state of a layer's filters during training: the filters layer <see cref="Layer"/> holds at the start of epoch
/// <see cref="Epoch"/>, after <see cref="Step"/> online updates within it (0 for batch updates, which change the
/// filters once, between epochs). The state after a layer's last epoch, which its final pass uses, is epoch = the
/// layer's epoch count. Solvers cache what depends on the filters alone (FISTA's ‖FᵀF‖, coordinate descent's
/// stencil) under <see cref="Key"/>, so two different states must never share a key: the key packs the three parts
/// into disjoint bit ranges rather than mixing them arithmetically. A trained layer's filters, frozen, have their own
/// version per layer (<see cref="Frozen"/>), whose key is negative and so never meets a training version's.
/// </summary>
public readonly record struct FilterVersion
{
    private const int EpochBits = 24, StepBits = 24, LayerBits = 63 - EpochBits - StepBits;

    public FilterVersion(int layer, int epoch, int step = 0)
        : this(layer, epoch, step, frozen: false)
    {
    }

    private FilterVersion(int layer, int epoch, int step, bool frozen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, 1 << LayerBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(epoch, 1 << EpochBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, 1 << StepBits);
        Layer = layer;
        Epoch = epoch;
        Step = step;
        IsFrozen = frozen;
    }

    /// <summary>The filters of layer <paramref name="layer"/> once training has finished with it (inference, rebuilding maps).</summary>
    public static FilterVersion Frozen(int layer) => new(layer, 0, 0, frozen: true);

    /// <summary>Rebuilds a version from its parts (a wire surrogate's fields).</summary>
    public static FilterVersion FromParts(int layer, int epoch, int step, bool frozen) => new(layer, epoch, step, frozen);

    public int Layer { get; }

    public int Epoch { get; }

    /// <summary>Online updates made within the epoch before these filters; 0 at its start.</summary>
    public int Step { get; }

    /// <summary>A trained layer's final filters rather than a state during its training.</summary>
    public bool IsFrozen { get; }

    /// <summary>
    /// The solvers' cache key: distinct for distinct versions (layer &lt; 2¹⁵, epoch and step &lt; 2²⁴); −1 − layer for
    /// frozen filters.
    /// </summary>
    public long Key => IsFrozen ? -1L - Layer : ((long)Layer << (EpochBits + StepBits)) | ((long)Epoch << StepBits) | (uint)Step;

    /// <summary>The filters after <paramref name="steps"/> online updates of this epoch.</summary>
    public FilterVersion After(int steps) => new(Layer, Epoch, steps);

    public override string ToString() => IsFrozen
        ? string.Create(CultureInfo.InvariantCulture, $"L{Layer}.frozen")
        : string.Create(CultureInfo.InvariantCulture, $"L{Layer}.E{Epoch}.S{Step}");
}
