namespace Distributed.Compute.Arithmetic;

/// <summary>A named network from the literature: its input volume and its layers in the `summary` grammar.</summary>
public sealed record NetworkPreset(string Name, string Description, string Input, IReadOnlyList<string> Layers)
{
    public NetworkSummary Describe() => NetworkSummary.Describe(Input, Layers);
}

/// <summary>The networks `summary --preset` knows.</summary>
public static class NetworkPresets
{
    /// <summary>Mnih et al. 2013, "Playing Atari with Deep Reinforcement Learning": 84×84×4 frames to 18 action values.</summary>
    public static readonly NetworkPreset Dqn = new(
        "dqn",
        "Mnih et al. 2013 (Atari DQN): 84×84×4 → conv 16 8×8/4 → conv 32 4×4/2 → fc 256 → fc 18",
        "84x84x4",
        ["conv:16:8x8/4", "conv:32:4x4/2", "fc:256", "fc:18"]);

    /// <summary>
    /// Radford et al. 2015, the DCGAN generator after its projection: 4×4×1024 → 8×8×512 → 16×16×256 → 32×32×128 → 64×64×3,
    /// 5×5 transposed convolutions of stride 2. P = 2 with output padding Q = 1 (PyTorch's convention) doubles each side
    /// exactly: 2(J − 1) + 5 − 4 + 1 = 2J, the size TensorFlow's 'SAME' transposed convolution gives.
    /// </summary>
    public static readonly NetworkPreset Dcgan = new(
        "dcgan",
        "Radford et al. 2015 (DCGAN generator): 4×4×1024 → deconv 512, 256, 128, 3 of 5×5/2 (P = 2, Q = 1) → 64×64×3",
        "4x4x1024",
        ["deconv:512:5x5/2/p2/o1", "deconv:256:5x5/2/p2/o1", "deconv:128:5x5/2/p2/o1", "deconv:3:5x5/2/p2/o1"]);

    /// <summary>Zeiler et al. 2010, "Deconvolutional Networks": a 150×150 grey image, 9 maps of 7×7 fully connected, then 45 maps as singles and all doubles.</summary>
    public static readonly NetworkPreset Zeiler = new(
        "zeiler",
        "Zeiler et al. 2010 (Deconvolutional Networks): 150×150×1 → dn 9 7×7 full → dn 45 7×7 singles and all doubles",
        "150x150x1",
        ["dn:9:7", "dn:45:7:sad"]);

    public static IReadOnlyList<NetworkPreset> All { get; } = [Dqn, Dcgan, Zeiler];

    /// <summary>The preset called <paramref name="name"/> (any case).</summary>
    public static NetworkPreset Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new NetworkSpecException($"unknown preset '{name}'; known: {string.Join(", ", All.Select(p => p.Name))}.");
    }
}
