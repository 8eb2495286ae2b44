namespace Distributed.Compute.Adaptive;

/// <summary>
/// Pixel-space inference settings beyond FISTA's own (<see cref="Inference.FistaOptions"/>): how often the lower layers'
/// switches are refreshed.
/// </summary>
public sealed record AdaptiveOptions
{
    /// <summary>The record's name in the spec; fields are reported as <c>adaptive.switchRefreshInterval</c>.</summary>
    public const string Field = "adaptive";

    /// <summary>FISTA iterations between switch refreshes; 0 keeps the switches as given.</summary>
    public int SwitchRefreshInterval { get; init; } = 10;

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate()
    {
        if (SwitchRefreshInterval is < 0 or > 100_000)
            throw SpecException.OutOfRange($"{Field}.switchRefreshInterval", SwitchRefreshInterval, "0..100000 (0: fixed switches)");
    }
}
