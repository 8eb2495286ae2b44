using Distributed.Compute.Tensors;

namespace Distributed.Compute.Imaging;

/// <summary>One decoded image: <see cref="Name"/> is its file name (what output files are named after),
/// <see cref="Source"/> the path or upload name it came from.</summary>
public sealed record NamedImage(string Name, string Source, Tensor3 Pixels);

/// <summary>An encoded image held in memory, as the client uploads it to the engine.</summary>
public sealed record EncodedImage(string Name, byte[] Bytes);

/// <summary>
/// The images of a training run, decoded, in a fixed order: a folder's files sorted by name (ordinal,
/// non-recursive, extensions in <see cref="ImageDecoder.Extensions"/>), or a list of files or uploads in the order
/// given. Sizes may differ; plane counts may not, unless <see cref="ImageLoadOptions.Grey"/> makes every image one
/// plane. With <see cref="ImageLoadOptions.SkipBad"/> unreadable images become <see cref="Warnings"/>.
/// </summary>
public sealed class ImageSet
{
    private ImageSet(IReadOnlyList<NamedImage> images, IReadOnlyList<string> warnings)
    {
        Images = images;
        Warnings = warnings;
    }

    public IReadOnlyList<NamedImage> Images { get; }

    /// <summary>One line per skipped file, the <see cref="ImageLoadException"/> message ("x.png: zero-byte file").</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Planes per image: 1 (grey) or 3 (RGB).</summary>
    public int Planes => Images[0].Pixels.Planes;

    public int Count => Images.Count;

    /// <summary>The image files <see cref="LoadFolder"/> would read, sorted by file name (ordinal).</summary>
    public static IReadOnlyList<string> ListFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
            throw new ImageLoadException(folder, File.Exists(folder) ? "is a file, not a folder of images" : "folder not found");
        try
        {
            return Directory.EnumerateFiles(folder)
                .Where(ImageDecoder.HasImageExtension)
                .OrderBy(Path.GetFileName, StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(folder, $"cannot list the folder ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// The files in <paramref name="folder"/> that look like images in a format not read here (TIFF, GIF, BMP,
    /// WebP, …; <see cref="ImageDecoder.UnsupportedExtensions"/>), sorted: what <see cref="ListFolder"/> passes over.
    /// </summary>
    public static IReadOnlyList<string> ListUnsupported(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            return Directory.EnumerateFiles(folder)
                .Where(ImageDecoder.HasUnsupportedImageExtension)
                .OrderBy(Path.GetFileName, StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(folder, $"cannot list the folder ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// This set without the images <paramref name="problem"/> finds fault with (it returns why, or null): with
    /// <paramref name="skip"/> they become <see cref="Warnings"/>, without it the first one is an
    /// <see cref="ImageLoadException"/>. For checks that need more than the file, such as a size against the filters.
    /// </summary>
    public ImageSet Without(Func<NamedImage, string?> problem, bool skip)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var kept = new List<NamedImage>();
        var warnings = new List<string>(Warnings);
        foreach (NamedImage image in Images)
        {
            if (problem(image) is not { } why)
            {
                kept.Add(image);
                continue;
            }
            var error = new ImageLoadException(image.Source, why);
            if (!skip) throw error;
            warnings.Add(error.Message);
        }
        if (kept.Count == 0)
            throw new ImageLoadException("the images", $"no usable images; skipped {warnings.Count}: {string.Join("; ", warnings)}");
        return new ImageSet(kept, warnings);
    }

    public static ImageSet LoadFolder(string folder, ImageLoadOptions? options = null)
    {
        IReadOnlyList<string> files = ListFolder(folder);
        if (files.Count == 0)
            throw new ImageLoadException(folder, $"no images in this folder (looked for {string.Join(' ', ImageDecoder.Extensions)})");
        return Load(folder, files.Select(f => (Path.GetFileName(f), f, (Func<ImageLoadOptions, Tensor3>)(o => ImageDecoder.DecodeFile(f, o)))), options);
    }

    public static ImageSet LoadFiles(IEnumerable<string> files, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        List<string> list = files.ToList();
        if (list.Count == 0) throw new ImageLoadException("(no files)", "no images given");
        return Load("the image list", list.Select(f => (Path.GetFileName(f), f, (Func<ImageLoadOptions, Tensor3>)(o => ImageDecoder.DecodeFile(f, o)))), options);
    }

    /// <summary>Decodes uploaded images; each <see cref="EncodedImage.Name"/> is both the name and the source.</summary>
    public static ImageSet Decode(IEnumerable<EncodedImage> images, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        List<EncodedImage> list = images.ToList();
        if (list.Count == 0) throw new ImageLoadException("(no uploads)", "no images given");
        return Load("the uploaded images", list.Select(e => (e.Name, e.Name, (Func<ImageLoadOptions, Tensor3>)(o => ImageDecoder.Decode(e.Name, e.Bytes, o)))), options);
    }

    private static ImageSet Load(string where, IEnumerable<(string Name, string Source, Func<ImageLoadOptions, Tensor3> Decode)> items, ImageLoadOptions? options)
    {
        options ??= ImageLoadOptions.Default;
        options.Validate();
        var images = new List<NamedImage>();
        var warnings = new List<string>();
        foreach (var (name, source, decode) in items)
        {
            Tensor3 pixels;
            try
            {
                pixels = decode(options);
            }
            catch (ImageLoadException ex) when (options.SkipBad)
            {
                warnings.Add(ex.Message);
                continue;
            }
            if (images.Count > 0 && images[0].Pixels.Planes != pixels.Planes)
            {
                NamedImage first = images[0];
                throw new ImageLoadException(source,
                    $"{Describe(pixels.Planes)} but {first.Source} is {Describe(first.Pixels.Planes)}; " +
                    "one set needs one kind, so request grey conversion to train on both");
            }
            images.Add(new NamedImage(name, source, pixels));
        }
        if (images.Count == 0)
            throw new ImageLoadException(where, $"no readable images; skipped {warnings.Count}: {string.Join("; ", warnings)}");
        return new ImageSet(images, warnings);
    }

    private static string Describe(int planes) => planes == 1 ? "grey (1 plane)" : $"colour ({planes} planes)";
}
