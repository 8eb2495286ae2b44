namespace Distributed.Compute.Operators;

/// <summary>
/// The fixed 0/1 connectivity <c>g_{k,c}</c> between feature map k and input plane c. Only connected pairs have
/// filters that are learned, convolved or shipped.
/// </summary>
public sealed class Connectivity
{
    private readonly bool[] _connected; // [K, C]

    public Connectivity(int maps, int inputs, bool[] connected)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentNullException.ThrowIfNull(connected);
        if (connected.Length != maps * inputs)
            throw new ArgumentException($"connectivity has {connected.Length} entries; [{maps}, {inputs}] needs {maps * inputs}.", nameof(connected));
        Maps = maps;
        Inputs = inputs;
        _connected = (bool[])connected.Clone();
        for (int c = 0; c < inputs; c++)
        {
            bool any = false;
            for (int k = 0; k < maps && !any; k++) any = _connected[k * inputs + c];
            if (!any) throw new ArgumentException($"input plane {c} is connected to no map; it could never be reconstructed.", nameof(connected));
        }
    }

    public int Maps { get; }
    public int Inputs { get; }

    public bool this[int k, int c] => _connected[k * Inputs + c];

    /// <summary>Connected (k, c) pairs over all (k, c): 1 for Full.</summary>
    public double Density => _connected.Count(x => x) / (double)_connected.Length;

    public int ConnectedCount => _connected.Count(x => x);

    /// <summary>Every map connects to every input plane (layer 1 default).</summary>
    public static Connectivity Full(int maps, int inputs) => new(maps, inputs, Enumerable.Repeat(true, maps * inputs).ToArray());

    /// <summary>
    /// Zeiler's "singles and all doubles": one map per input plane, then one per unordered pair of planes,
    /// so C inputs give C + C(C−1)/2 maps (9 → 45).
    /// </summary>
    public static Connectivity SinglesAndAllDoubles(int inputs)
    {
        int maps = inputs + inputs * (inputs - 1) / 2;
        var g = new bool[maps * inputs];
        int k = 0;
        for (int c = 0; c < inputs; c++, k++) g[k * inputs + c] = true;
        for (int a = 0; a < inputs; a++)
            for (int b = a + 1; b < inputs; b++, k++)
            {
                g[k * inputs + a] = true;
                g[k * inputs + b] = true;
            }
        return new Connectivity(maps, inputs, g);
    }

    /// <summary>
    /// Each map connects to two distinct input planes drawn from a seeded generator; each plane is then checked to be
    /// covered (planes left out are attached to maps in turn), so the result is a valid connectivity for any seed.
    /// </summary>
    public static Connectivity RandomDoubles(int maps, int inputs, int seed)
    {
        if (inputs < 2) return Full(maps, inputs);
        var rng = new Random(seed);
        var g = new bool[maps * inputs];
        for (int k = 0; k < maps; k++)
        {
            int a = rng.Next(inputs);
            int b = rng.Next(inputs - 1);
            if (b >= a) b++;
            g[k * inputs + a] = true;
            g[k * inputs + b] = true;
        }
        int next = 0;
        for (int c = 0; c < inputs; c++)
        {
            bool any = false;
            for (int k = 0; k < maps && !any; k++) any = g[k * inputs + c];
            if (!any) g[(next++ % maps) * inputs + c] = true;
        }
        return new Connectivity(maps, inputs, g);
    }

    /// <summary>Raw [K, C] mask, for serialisation.</summary>
    public bool[] ToArray() => (bool[])_connected.Clone();
}
