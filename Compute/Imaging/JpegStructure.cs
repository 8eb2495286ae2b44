using System.Buffers.Binary;

namespace Distributed.Compute.Imaging;

/// <summary>The frame header (SOFn) fields of a JPEG that decide how it is decoded.</summary>
internal readonly record struct JpegFrame(int Width, int Height, int Components);

/// <summary>
/// Walks a JPEG's marker segments and entropy-coded scans up to the end-of-image marker, reading the frame header on
/// the way. The decoder is only handed files that pass: it pads a file that stops early with grey and reports
/// success (a cut-off upload would train as a half-grey photo), and on some damaged headers it never returns.
/// </summary>
internal static class JpegStructure
{
    private const byte Eoi = 0xD9, Sos = 0xDA, Tem = 0x01;

    public static JpegFrame Check(string name, ReadOnlySpan<byte> jpeg)
    {
        const string Truncated = "truncated JPEG (the file ends before the end-of-image marker)";
        JpegFrame? frame = null;
        int at = 2; // after SOI (FF D8)
        while (true)
        {
            if (at >= jpeg.Length) throw new ImageLoadException(name, Truncated);
            if (jpeg[at] != 0xFF) throw new ImageLoadException(name, $"corrupt JPEG (expected a marker at byte {at})");
            while (at < jpeg.Length && jpeg[at] == 0xFF) at++; // fill bytes before a marker are allowed
            if (at >= jpeg.Length) throw new ImageLoadException(name, Truncated);
            byte marker = jpeg[at++];
            if (marker == Eoi) break;
            if (marker == Tem || IsRestart(marker)) continue; // standalone markers carry no length
            if (marker == 0x00) throw new ImageLoadException(name, $"corrupt JPEG (stray byte 0xFF00 at byte {at - 2})");
            if (at + 2 > jpeg.Length) throw new ImageLoadException(name, Truncated);
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[at..]);
            if (length < 2) throw new ImageLoadException(name, $"corrupt JPEG (segment 0xFF{marker:X2} at byte {at - 2} has length {length})");
            if (at + length > jpeg.Length) throw new ImageLoadException(name, Truncated);
            if (IsFrame(marker)) frame = ReadFrame(name, marker, jpeg.Slice(at + 2, length - 2), frame);
            at += length;
            if (marker != Sos) continue;
            if (frame is null) throw new ImageLoadException(name, "corrupt JPEG (a scan starts before the frame header)");
            // Entropy-coded data: 0xFF is stuffed as FF 00, restart markers FF D0..D7 sit inside; any other marker ends the scan.
            while (true)
            {
                if (at + 1 >= jpeg.Length) throw new ImageLoadException(name, "truncated JPEG (the file ends inside the compressed data)");
                if (jpeg[at] != 0xFF) { at++; continue; }
                byte next = jpeg[at + 1];
                if (next == 0x00 || IsRestart(next)) { at += 2; continue; }
                if (next == 0xFF) { at++; continue; }
                break;
            }
        }
        return frame ?? throw new ImageLoadException(name, "corrupt JPEG (no frame header)");
    }

    private static JpegFrame ReadFrame(string name, byte marker, ReadOnlySpan<byte> segment, JpegFrame? previous)
    {
        if (previous is not null) throw new ImageLoadException(name, "corrupt JPEG (two frame headers)");
        if (segment.Length < 6) throw new ImageLoadException(name, "corrupt JPEG (short frame header)");
        int precision = segment[0], height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
        int width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]), components = segment[5];
        if (segment.Length < 6 + 3 * components) throw new ImageLoadException(name, "corrupt JPEG (short frame header)");
        if (marker is 0xC3 or 0xC7 or 0xCB or 0xCF) throw new ImageLoadException(name, "lossless JPEG is not supported");
        if (marker >= 0xC9) throw new ImageLoadException(name, "arithmetic-coded JPEG is not supported");
        if (precision != 8) throw new ImageLoadException(name, $"{precision}-bit JPEG is not supported (8-bit only)");
        if (height == 0) throw new ImageLoadException(name, "JPEG whose height is set after the first scan (DNL) is not supported");
        if (width == 0) throw new ImageLoadException(name, "corrupt JPEG (width 0)");
        if (components is not (1 or 3 or 4)) throw new ImageLoadException(name, $"JPEG with {components} colour components is not supported");
        return new JpegFrame(width, height, components);
    }

    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    private static bool IsFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);

    private static bool IsRestart(byte marker) => marker is >= 0xD0 and <= 0xD7;
}
