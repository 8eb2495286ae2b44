using Distributed.Compute.Adaptive;

namespace Distributed.Compute.Training;

/// <summary>
/// What choosing the adaptive model changes in a spec, for the fields the user left unset. The model infers by FISTA
/// (ℓ1), and pooling changes how many planes layer 2 reads, so its defaults are: solver fista, p = 1, random doubles
/// above layer 1, the pooling below, and λ = 0.3: on the unit-RMS bundled photos ℓ1 at λ = 0.1 codes nothing, at λ = 1
/// it codes ~4.5% of layer 1 with noisy filters, at 0.3 ~0.6% with edge-like ones (measured with the defaults, 8
/// epochs).
/// </summary>
public sealed record AdaptivePreset
{
    public static AdaptivePreset Default { get; } = new();

    public InferenceSolver Solver { get; init; } = InferenceSolver.Fista;
    public double P { get; init; } = 1;
    public double Lambda { get; init; } = 0.3;

    /// <summary>Connectivity of every layer above the first (layer 1 reads the image planes and keeps its own).</summary>
    public ConnectivityKind UpperConnectivity { get; init; } = ConnectivityKind.RandomDoubles;

    /// <summary>The pooling between each pair of layers.</summary>
    public PoolSize Pool { get; init; } = new(3, 3, 2);

    /// <summary>
    /// <paramref name="spec"/> as the adaptive model, with this preset in every field not in <paramref name="given"/>
    /// (spec field names: <c>solver</c>, <c>layers.p</c>, <c>layers.lambda</c>, <c>layers.connectivity</c>). Pools:
    /// one per pair of layers (null: none there), or null for <see cref="Pool"/> between every pair.
    /// </summary>
    public TrainingSpec Apply(TrainingSpec spec, IReadOnlySet<string> given, IReadOnlyList<PoolSize?>? pools = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(given);
        int boundaries = spec.Layers.Count - 1;
        if (pools is not null && pools.Count != boundaries)
            throw new SpecException($"{LayerSpec.Field}.pool: {pools.Count} values for the {boundaries} pairs of layers; give one per pair.", $"{LayerSpec.Field}.pool");
        return spec with
        {
            Model = NetworkModel.Adaptive,
            Solver = given.Contains("solver") ? spec.Solver : Solver,
            Layers = spec.Layers.Select((l, i) => l with
            {
                Pool = i < boundaries ? (pools is null ? Pool : pools[i]) : null,
                P = given.Contains($"{LayerSpec.Field}.p") ? l.P : P,
                Lambda = given.Contains($"{LayerSpec.Field}.lambda") ? l.Lambda : Lambda,
                Connectivity = given.Contains($"{LayerSpec.Field}.connectivity") || i == 0 ? l.Connectivity : UpperConnectivity,
            }).ToArray(),
        };
    }
}
