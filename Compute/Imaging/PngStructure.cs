using System.Buffers.Binary;
using System.Text;

namespace Distributed.Compute.Imaging;

/// <summary>The fields of a PNG's IHDR chunk that decide how it is decoded.</summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, int ColorType);

/// <summary>
/// Walks a PNG's chunks before decoding: the first must be IHDR, every chunk's CRC must match, and IEND must arrive
/// before the bytes run out. The decoder does not check CRCs, so without this a flipped byte in the pixel data would
/// load as a silently wrong image and a cut-off file could load as a partly black one.
/// </summary>
internal static class PngStructure
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly uint[] CrcTable = BuildCrcTable();

    public static PngHeader Check(string name, ReadOnlySpan<byte> png)
    {
        int at = 8;
        PngHeader? header = null;
        bool sawData = false;
        while (true)
        {
            if (at + 8 > png.Length)
                throw new ImageLoadException(name, header is null ? "truncated PNG (no IHDR chunk)" : $"truncated PNG (no IEND chunk; data ends at byte {png.Length})");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            ReadOnlySpan<byte> type = png.Slice(at + 4, 4);
            string typeName = ChunkName(type);
            if (length > int.MaxValue || at + 12L + length > png.Length)
                throw new ImageLoadException(name, $"truncated PNG (chunk '{typeName}' at byte {at} needs {length} data bytes; the file ends at byte {png.Length})");
            ReadOnlySpan<byte> data = png.Slice(at + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(at + 8 + (int)length)..]);
            if (Crc(png.Slice(at + 4, 4 + (int)length)) != stored)
                throw new ImageLoadException(name, $"corrupt PNG (CRC mismatch in chunk '{typeName}' at byte {at})");
            if (header is null)
            {
                if (typeName != "IHDR" || length != 13) throw new ImageLoadException(name, "corrupt PNG (the first chunk is not IHDR)");
                uint width = BinaryPrimitives.ReadUInt32BigEndian(data), height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
                    throw new ImageLoadException(name, $"corrupt PNG (size {width}×{height})");
                header = new PngHeader((int)width, (int)height, data[8], data[9]);
            }
            if (typeName == "IDAT") sawData = true;
            at += 12 + (int)length;
            if (typeName == "IEND") break;
        }
        if (!sawData) throw new ImageLoadException(name, "corrupt PNG (no IDAT chunk)");
        return header!.Value;
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
            if (b is not ((>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z'))) return "0x" + Convert.ToHexString(type);
        return Encoding.ASCII.GetString(type);
    }

    /// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320) of the chunk type and data, as PNG stores it.</summary>
    internal static uint Crc(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
