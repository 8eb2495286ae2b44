using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Distributed.Compute.Imaging;

namespace Distributed.Compute.Tests.Imaging;

/// <summary>Paths to the repository's files, and small image files built byte by byte.</summary>
internal static class TestFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Samples => Path.Combine(RepoRoot, "samples", "images");

    public static string Assets => Path.Combine(RepoRoot, "tests", "Compute.Tests", "Imaging", "Assets");

    /// <summary>SPORCO's reference problem (bench/data/sporco-b1, with its provenance in that folder's README).</summary>
    public static string SporcoAnchors => Path.Combine(RepoRoot, "bench", "data", "sporco-b1");

    public static IReadOnlyList<string> SampleNames { get; } =
    [
        "libjxl-wesaturate-keong_macan.png",
        "libjxl-wesaturate-riaphotographs.png",
        "skimage-astronaut.png",
        "skimage-chelsea.png",
        "skimage-coffee.png",
    ];

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distributed.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Distributed.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>A binary PGM/PPM: header with a comment, then the samples (16-bit big-endian when maxval &gt; 255).</summary>
    public static byte[] Netpbm(char kind, int width, int height, int maxValue, IReadOnlyList<int> samples)
    {
        var header = Encoding.ASCII.GetBytes($"P{kind}\n# made by a test\n{width} {height}\n{maxValue}\n");
        int bytesPerSample = maxValue > 255 ? 2 : 1;
        var data = new byte[samples.Count * bytesPerSample];
        for (int i = 0; i < samples.Count; i++)
        {
            if (bytesPerSample == 2) BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(2 * i), (ushort)samples[i]);
            else data[i] = (byte)samples[i];
        }
        return [.. header, .. data];
    }

    /// <summary>A valid PNG: colour type 0 (grey), 2 (RGB), 4 (grey + alpha) or 6 (RGBA); 8 or 16 bits; filter 0 rows.</summary>
    public static byte[] Png(int width, int height, int colorType, int bitDepth, IReadOnlyList<int> samples)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colorType)) };
        int bytesPerSample = bitDepth / 8;
        var raw = new MemoryStream();
        for (int r = 0; r < height; r++)
        {
            raw.WriteByte(0);
            for (int i = 0; i < width * channels; i++)
            {
                int v = samples[r * width * channels + i];
                if (bytesPerSample == 2) raw.WriteByte((byte)(v >> 8));
                raw.WriteByte((byte)v);
            }
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Recomputes every chunk's CRC, so a test can damage chunk data that the CRC check would otherwise catch first.</summary>
    public static void FixPngCrcs(byte[] png)
    {
        int at = 8;
        while (at + 12 <= png.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            uint crc = PngStructure.Crc(png.AsSpan(at + 4, 4 + length));
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + length), crc);
            at += 12 + length;
        }
    }

    /// <summary>Where the first IDAT chunk's data starts.</summary>
    public static int IdatDataOffset(byte[] png)
    {
        int at = 8;
        while (Encoding.ASCII.GetString(png, at + 4, 4) != "IDAT") at += 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
        return at + 8;
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngStructure.Crc(typed));
        png.Write(word);
    }

    /// <summary>A fresh empty folder under the system temp folder; deleted by <see cref="IDisposable.Dispose"/>.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "distributed-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string name, byte[] bytes)
        {
            string path = System.IO.Path.Combine(Path, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        public void Dispose()
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
    }
}
