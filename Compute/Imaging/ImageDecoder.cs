using System.Globalization;
using Distributed.Compute.Tensors;
using StbImageSharp;

namespace Distributed.Compute.Imaging;

/// <summary>
/// Decodes one image — PNG or JPEG (StbImageSharp, 8 bits a sample), binary PGM (P5) or PPM (P6) with maxval up to
/// 65535 (<see cref="NetpbmDecoder"/>) — into a <see cref="Tensor3"/> of planes in [0, 1]: one plane for a grey
/// image, three (R, G, B) for a colour one; alpha is dropped. The format is told by the file's first bytes, not its
/// name. Every failure is an <see cref="ImageLoadException"/> naming the file; nothing else escapes.
/// </summary>
public static class ImageDecoder
{
    /// <summary>File name extensions a folder scan picks up (compared case-insensitively).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm"];

    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Extensions of image formats this decoder does not read: a folder scan names such files in a warning instead of passing them by silently.</summary>
    public static IReadOnlyList<string> UnsupportedExtensions { get; } =
        [".tif", ".tiff", ".gif", ".bmp", ".webp", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".exr", ".hdr", ".ico", ".pbm", ".pam", ".pfm", ".psd", ".svg", ".tga", ".dng", ".raw", ".cr2", ".nef", ".arw"];

    public static bool HasUnsupportedImageExtension(string path) =>
        UnsupportedExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads and decodes the file at <paramref name="path"/>; the size limit is checked before reading.</summary>
    public static Tensor3 DecodeFile(string path, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new ImageLoadException(path, Directory.Exists(path) ? "is a folder, not an image file" : "file not found");
            CheckFileBytes(path, info.Length, options);
            bytes = File.ReadAllBytes(path);
        }
        catch (ImageLoadException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ImageLoadException(path, $"cannot read the file ({ex.Message})", ex);
        }
        return Decode(path, bytes, options);
    }

    /// <summary>Decodes an image held in memory (an upload); <paramref name="name"/> is what error messages call it.</summary>
    public static Tensor3 Decode(string name, byte[] bytes, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(bytes);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        CheckFileBytes(name, bytes.Length, options);
        ImageFormat format = Detect(bytes);
        try
        {
            return format switch
            {
                ImageFormat.Png => DecodePng(name, bytes, options),
                ImageFormat.Jpeg => DecodeJpeg(name, bytes, options),
                ImageFormat.Netpbm => NetpbmDecoder.Decode(name, bytes, options),
                _ => throw new ImageLoadException(name, DescribeUnknown(bytes)),
            };
        }
        catch (ImageLoadException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // StbImageSharp reports bad data as plain Exception (and unsafe index errors as anything): wrap them all.
            throw new ImageLoadException(name, $"corrupt {FormatName(format)} ({ex.Message})", ex);
        }
    }

    internal static void CheckFileBytes(string name, long length, ImageLoadOptions options)
    {
        if (length == 0) throw new ImageLoadException(name, "zero-byte file");
        if (length > options.MaxFileBytes)
            throw new ImageLoadException(name, $"file is {FormatBytes(length)}, limit {FormatBytes(options.MaxFileBytes)}");
    }

    internal static void CheckPixels(string name, long width, long height, ImageLoadOptions options)
    {
        if (width <= 0 || height <= 0) throw new ImageLoadException(name, $"corrupt header: size {width}×{height}");
        long pixels = width * height;
        if (pixels > options.MaxPixels || pixels > Array.MaxLength / 3)
        {
            long limit = Math.Min(options.MaxPixels, Array.MaxLength / 3);
            throw new ImageLoadException(name,
                $"{width}×{height} is {FormatMegapixels(pixels)} megapixels, limit {FormatMegapixels(limit)}");
        }
    }

    private enum ImageFormat { Unknown, Png, Jpeg, Netpbm }

    private static ImageFormat Detect(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 8 && b[..8].SequenceEqual(PngStructure.Signature)) return ImageFormat.Png;
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat.Jpeg;
        if (b.Length >= 2 && b[0] == (byte)'P' && b[1] >= (byte)'1' && b[1] <= (byte)'7') return ImageFormat.Netpbm;
        return ImageFormat.Unknown;
    }

    private static string FormatName(ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Netpbm => "PGM/PPM",
        _ => "image",
    };

    private static string DescribeUnknown(ReadOnlySpan<byte> b)
    {
        ReadOnlySpan<byte> head = b[..Math.Min(8, b.Length)];
        string hex = Convert.ToHexString(head);
        bool text = true;
        foreach (byte x in head) text &= x is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t';
        string looks = text ? " — looks like text" : "";
        return $"not a PNG, JPEG or binary PGM/PPM image (starts with bytes {hex}{looks})";
    }

    private static Tensor3 DecodePng(string name, byte[] bytes, ImageLoadOptions options)
    {
        PngHeader header = PngStructure.Check(name, bytes);
        CheckPixels(name, header.Width, header.Height, options);
        // Colour types 0 (grey) and 4 (grey + alpha) are grey; 2, 3 (palette) and 6 are colour.
        bool grey = header.ColorType is 0 or 4;
        return Decode8Bit(bytes, grey, header.Width, header.Height, options);
    }

    private static Tensor3 DecodeJpeg(string name, byte[] bytes, ImageLoadOptions options)
    {
        JpegFrame frame = JpegStructure.Check(name, bytes);
        CheckPixels(name, frame.Width, frame.Height, options);
        return Decode8Bit(bytes, frame.Components == 1, frame.Width, frame.Height, options);
    }

    private static Tensor3 Decode8Bit(byte[] bytes, bool sourceGrey, int width, int height, ImageLoadOptions options)
    {
        ImageResult result = ImageResult.FromMemory(bytes, sourceGrey ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        int channels = sourceGrey ? 1 : 3;
        if (result.Width != width || result.Height != height || result.Data.Length != (long)width * height * channels)
            throw new InvalidDataException($"decoder returned {result.Width}×{result.Height}×{result.Data.Length} bytes for a {width}×{height} header");
        return Interleaved.ToPlanes(result.Data, height, width, channels, 255, options.Grey);
    }

    private static string FormatMegapixels(long pixels) =>
        (pixels / 1e6).ToString(pixels >= 1_000_000 ? "0.##" : "G3", CultureInfo.InvariantCulture);

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}
