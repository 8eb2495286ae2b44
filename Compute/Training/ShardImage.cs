namespace Distributed.Compute.Training;

/// <summary>
/// One image of a shard: a reference to its source and shape, and what is kept between passes, per layer: its maps
/// and (layer l ≥ 1) its input planes, each in <see cref="ResidentMaps"/> form. The decoded image itself lives in the
/// shard's <see cref="ImageCache"/>. A layer's maps are written by the one thread that infers the image in a pass.
/// </summary>
internal sealed class ShardImage(int index, IImageSource source, int planes, int rows, int cols)
{
    private readonly List<ResidentMaps?> _inputs = [];   // [l − 1]: layer l's input
    private readonly List<ResidentMaps?> _maps = [];

    public int Index { get; } = index;
    public IImageSource Source { get; } = source;
    public string Name => Source.Name;
    public int Planes { get; } = planes;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;

    /// <summary>Bytes of the preprocessed image as floats.</summary>
    public long InputBytes => 4L * Planes * Rows * Cols;

    public ResidentMaps? MapsOf(int layer) => layer < _maps.Count ? _maps[layer] : null;

    public void SetMaps(int layer, ResidentMaps? maps)
    {
        while (_maps.Count <= layer) _maps.Add(null);
        _maps[layer] = maps;
    }

    /// <summary>Whether layer <paramref name="layer"/>'s input exists (layer 0's is the image, always).</summary>
    public bool HasInput(int layer) => layer == 0 || (layer - 1 < _inputs.Count && _inputs[layer - 1] is not null);

    /// <summary>Layer l ≥ 1's input planes.</summary>
    public ResidentMaps InputOf(int layer) => _inputs[layer - 1] ?? throw new InvalidOperationException($"{Name} has no layer-{layer + 1} input.");

    /// <summary>Planes, rows and cols of layer <paramref name="layer"/>'s input.</summary>
    public (int Planes, int Rows, int Cols) InputShape(int layer)
    {
        if (layer == 0) return (Planes, Rows, Cols);
        ResidentMaps input = InputOf(layer);
        return (input.Planes, input.Rows, input.Cols);
    }

    public void SetInput(int layer, ResidentMaps input)
    {
        while (_inputs.Count < layer) _inputs.Add(null);
        _inputs[layer - 1] = input;
    }

    /// <summary>Bytes kept between passes: maps and derived inputs (an input that is the layer below's maps counts once).</summary>
    public long ResidentBytes
    {
        get
        {
            long bytes = 0;
            var seen = new HashSet<ResidentMaps>(ReferenceEqualityComparer.Instance);
            foreach (ResidentMaps? m in _maps.Concat(_inputs))
                if (m is not null && seen.Add(m)) bytes += m.Bytes;
            return bytes;
        }
    }

    public void Reset()
    {
        _inputs.Clear();
        _maps.Clear();
    }
}
