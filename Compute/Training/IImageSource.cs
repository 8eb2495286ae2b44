using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// Where a shard's image comes from: something that can produce its decoded, preprocessed planes again after the
/// shard's cache let them go. <see cref="Load"/> must return the same bits every time (decoding and preprocessing are
/// deterministic), so an evicted image re-read gives the training run exactly what it had.
/// </summary>
public interface IImageSource
{
    string Name { get; }

    /// <summary>The decoded, preprocessed image. Callers never write to it.</summary>
    Tensor3 Load();
}

/// <summary>An image already in memory: nothing to re-read, so the cache cannot free it (the source holds it).</summary>
public sealed class InMemoryImageSource(string name, Tensor3 preprocessed) : IImageSource
{
    private readonly Tensor3 _image = preprocessed ?? throw new ArgumentNullException(nameof(preprocessed));

    public string Name { get; } = name;

    public Tensor3 Load() => _image;
}
