using Distributed.Compute.Tensors;

namespace Distributed.Compute.Imaging;

/// <summary>
/// Binary PGM (P5, grey) and PPM (P6, RGB) as netpbm defines them: "P5", whitespace, width, height and maxval as
/// ASCII decimals separated by whitespace (comments from '#' to the end of a line allowed between them), exactly one
/// whitespace byte, then the raster row by row — one byte a sample when maxval &lt; 256, else two, big-endian.
/// Samples are divided by maxval, so a 16-bit file keeps its precision.
/// </summary>
internal static class NetpbmDecoder
{
    public static Tensor3 Decode(string name, ReadOnlySpan<byte> bytes, ImageLoadOptions options)
    {
        char kind = (char)bytes[1];
        int channels = kind switch
        {
            '5' => 1,
            '6' => 3,
            '1' or '4' => throw new ImageLoadException(name, $"bitmap PBM (P{kind}) is not supported; convert it to binary PGM (P5)"),
            '2' or '3' => throw new ImageLoadException(name, $"plain-text {(kind == '2' ? "PGM" : "PPM")} (P{kind}) is not supported; convert it to binary (P{(char)(kind + 3)})"),
            _ => throw new ImageLoadException(name, $"PAM (P{kind}) is not supported; use binary PGM (P5) or PPM (P6)"),
        };
        string format = channels == 1 ? "PGM" : "PPM";
        int at = 2;
        long width = ReadNumber(name, format, bytes, ref at, "width");
        long height = ReadNumber(name, format, bytes, ref at, "height");
        long maxValue = ReadNumber(name, format, bytes, ref at, "maxval");
        if (maxValue is < 1 or > 65535) throw new ImageLoadException(name, $"corrupt {format} header (maxval {maxValue}; allowed 1..65535)");
        if (at >= bytes.Length || !IsSpace(bytes[at])) throw new ImageLoadException(name, $"truncated {format} (no pixel data after the header)");
        at++; // the single whitespace byte before the raster
        ImageDecoder.CheckPixels(name, width, height, options);

        bool wide = maxValue > 255;
        long need = width * height * channels * (wide ? 2 : 1);
        long have = bytes.Length - at;
        if (have < need) throw new ImageLoadException(name, $"truncated {format} ({have} of {need} pixel data bytes)");
        ReadOnlySpan<byte> raster = bytes.Slice(at, (int)need);
        if (maxValue != 255) CheckSamples(name, format, raster, width, channels, (int)maxValue, wide);
        return Interleaved.ToPlanes(raster, (int)height, (int)width, channels, (int)maxValue, options.Grey, wide);
    }

    private static long ReadNumber(string name, string format, ReadOnlySpan<byte> bytes, ref int at, string field)
    {
        // Whitespace and comments before the token; the magic number must be followed by whitespace too.
        int start = at;
        while (at < bytes.Length)
        {
            if (IsSpace(bytes[at])) at++;
            else if (bytes[at] == (byte)'#') { while (at < bytes.Length && bytes[at] != (byte)'\n' && bytes[at] != (byte)'\r') at++; }
            else break;
        }
        if (at >= bytes.Length) throw new ImageLoadException(name, $"truncated {format} header (ends before the {field})");
        if (at == start) throw new ImageLoadException(name, $"corrupt {format} header (no whitespace before the {field} at byte {at})");
        long value = 0;
        int digits = 0;
        while (at < bytes.Length && bytes[at] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (bytes[at] - '0');
            if (++digits > 10) throw new ImageLoadException(name, $"corrupt {format} header ({field} has more than 10 digits)");
            at++;
        }
        if (digits == 0) throw new ImageLoadException(name, $"corrupt {format} header (expected the {field} as a decimal number at byte {at})");
        return value;
    }

    private static void CheckSamples(string name, string format, ReadOnlySpan<byte> raster, long width, int channels, int maxValue, bool wide)
    {
        int count = raster.Length / (wide ? 2 : 1);
        for (int i = 0; i < count; i++)
        {
            int sample = wide ? (raster[2 * i] << 8) | raster[2 * i + 1] : raster[i];
            if (sample > maxValue)
            {
                long pixel = i / channels;
                throw new ImageLoadException(name,
                    $"corrupt {format} (sample {sample} at row {pixel / width}, column {pixel % width} exceeds maxval {maxValue})");
            }
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;
}
