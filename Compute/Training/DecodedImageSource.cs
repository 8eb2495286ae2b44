using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// An image re-read from its encoded form each time the cache needs it: a file path, or the encoded bytes (an upload
/// kept in grain storage keeps only these, a few percent of the decoded floats), then preprocessed as the spec says.
/// </summary>
public sealed class DecodedImageSource : IImageSource
{
    private readonly string? _path;
    private readonly byte[]? _encoded;
    private readonly ImageLoadOptions _options;
    private readonly Preprocessing _preprocessing;

    private DecodedImageSource(string name, string? path, byte[]? encoded, ImageLoadOptions options, Preprocessing preprocessing)
    {
        Name = name;
        _path = path;
        _encoded = encoded;
        _options = options;
        _preprocessing = preprocessing;
    }

    public string Name { get; }

    /// <summary>Decodes the file at <paramref name="path"/> on every load.</summary>
    public static DecodedImageSource FromFile(string path, ImageLoadOptions options, Preprocessing preprocessing, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        return new DecodedImageSource(name ?? Path.GetFileName(path), path, null, options, preprocessing);
    }

    /// <summary>Decodes <paramref name="encoded"/> (a PNG, JPEG or netpbm file's bytes) on every load.</summary>
    public static DecodedImageSource FromBytes(string name, byte[] encoded, ImageLoadOptions options, Preprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(options);
        return new DecodedImageSource(name, null, encoded, options, preprocessing);
    }

    public Tensor3 Load()
    {
        Tensor3 pixels = _path is not null ? ImageDecoder.DecodeFile(_path, _options) : ImageDecoder.Decode(Name, _encoded!, _options);
        return Preprocessor.ApplyToImage(pixels, _preprocessing);
    }
}
