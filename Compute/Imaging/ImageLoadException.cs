namespace Distributed.Compute.Imaging;

/// <summary>
/// An image that cannot be used: missing, empty, not an image, corrupt, truncated or over a configured limit.
/// The message always starts with the file (or upload) name, then the problem: <c>"photos/x.png: zero-byte file"</c>.
/// Codec exceptions never escape unwrapped; they travel as <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class ImageLoadException : IOException
{
    public ImageLoadException(string source, string problem, Exception? inner = null)
        : base($"{source}: {problem}", inner)
    {
        SourceName = source;
        Problem = problem;
    }

    /// <summary>The file path, upload name or folder the problem is about.</summary>
    public string SourceName { get; }

    /// <summary>The problem alone, without the name.</summary>
    public string Problem { get; }
}
