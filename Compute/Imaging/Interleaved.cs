using Distributed.Compute.Tensors;

namespace Distributed.Compute.Imaging;

/// <summary>Interleaved samples (R G B R G B … or grey), row-major, to planes in [0, 1].</summary>
internal static class Interleaved
{
    // Rec. 601 luma, as MATLAB's rgb2gray, netpbm's ppmtopgm and SPORCO's examples.
    public const float LumaR = 0.299f, LumaG = 0.587f, LumaB = 0.114f;

    /// <summary>
    /// Effectively computes planes[c, r, x] = sample(r, x, c) / maxValue, or with <paramref name="grey"/> and three
    /// channels the single plane (.299 R + .587 G + .114 B) / maxValue. Samples are bytes, or 16-bit big-endian
    /// words when <paramref name="wide"/> (netpbm's layout).
    /// </summary>
    public static Tensor3 ToPlanes(ReadOnlySpan<byte> samples, int rows, int cols, int channels, int maxValue, bool grey, bool wide = false)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), $"channels = {channels}; allowed 1 or 3.");
        int bytesPerSample = wide ? 2 : 1;
        long need = (long)rows * cols * channels * bytesPerSample;
        if (samples.Length < need) throw new ArgumentException($"{samples.Length} sample bytes; {rows}×{cols}×{channels} needs {need}.", nameof(samples));
        float max = maxValue;
        int pixels = rows * cols;
        bool toGrey = grey && channels == 3;
        var planes = new Tensor3(toGrey ? 1 : channels, rows, cols);
        Span<float> data = planes.Span;
        for (int i = 0; i < pixels; i++)
        {
            if (channels == 1)
            {
                data[i] = Sample(samples, i, wide) / max;
            }
            else
            {
                float r = Sample(samples, 3 * i, wide), g = Sample(samples, 3 * i + 1, wide), b = Sample(samples, 3 * i + 2, wide);
                if (toGrey)
                {
                    data[i] = (LumaR * r + LumaG * g + LumaB * b) / max;
                }
                else
                {
                    data[i] = r / max;
                    data[pixels + i] = g / max;
                    data[2 * pixels + i] = b / max;
                }
            }
        }
        return planes;
    }

    private static int Sample(ReadOnlySpan<byte> samples, int index, bool wide) =>
        wide ? (samples[2 * index] << 8) | samples[2 * index + 1] : samples[index];
}
