using Distributed.Compute.Tensors;

namespace Distributed.Compute.Learning;

/// <summary>How far one layer's filters moved from their random start and how structured they are, per filter and as medians.</summary>
public sealed record FilterStructureSummary(
    double MedianCosineToStart,
    double MedianOrientationConcentration,
    double StartMedianOrientationConcentration,
    double[] CosineToStart,
    double[] OrientationConcentration);

/// <summary>
/// Figures that tell learned filters from their random start without looking at a picture:
/// <list type="bullet">
/// <item>cosine to start: f_k · f_k⁰ / (‖f_k‖ ‖f_k⁰‖) over all of filter k's planes. A filter that learned nothing stays
/// near 1 (the 2010 defaults left 0.88–0.97 after 5 epochs); an oriented edge grown from noise is near 0.</item>
/// <item>orientation concentration: the share of the filter's spectral energy (DC left out; per pixel-space plane,
/// summed) that falls in the strongest of <see cref="OrientationBins"/> orientation bins of the DFT, zero-padded to
/// <see cref="SpectrumSize"/>². An edge or bar puts most of its energy along one orientation; white noise spreads it
/// evenly, 1/8 = 0.125 in expectation and about 0.2 for one random 7×7 filter (the start median is reported beside it).</item>
/// </list>
/// Cost: one K·C·s² dot product and a 16×16 DFT per plane; nothing next to an epoch.
/// </summary>
public static class FilterStructure
{
    public const int OrientationBins = 8;
    public const int SpectrumSize = 16;

    /// <summary>
    /// The figures of one layer: <paramref name="filters"/> against <paramref name="start"/> (same shape) for the cosine,
    /// and the orientation concentration of <paramref name="pixels"/> and <paramref name="startPixels"/> (the same
    /// filters seen in pixels, <see cref="PixelProjection"/>; for layer 1 the filters themselves).
    /// </summary>
    public static FilterStructureSummary Measure(FilterBank filters, FilterBank start, FilterBank pixels, FilterBank startPixels)
    {
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(startPixels);
        if (!filters.SameShape(start)) throw new ArgumentException($"filters {filters} and start {start} differ in shape.", nameof(start));
        double[] cosine = new double[filters.Maps], concentration = new double[filters.Maps], startConcentration = new double[filters.Maps];
        int length = filters.Inputs * filters.PlaneLength;
        for (int k = 0; k < filters.Maps; k++)
        {
            cosine[k] = Cosine(filters.Data.AsSpan(k * length, length), start.Data.AsSpan(k * length, length));
            concentration[k] = OrientationConcentration(pixels, k);
            startConcentration[k] = OrientationConcentration(startPixels, k);
        }
        return new FilterStructureSummary(Median(cosine), Median(concentration), Median(startConcentration), cosine, concentration);
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) (ab, aa, bb) = (ab + (double)a[i] * b[i], aa + (double)a[i] * a[i], bb + (double)b[i] * b[i]);
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : 0;
    }

    /// <summary>
    /// Shifted normalised correlation of two s×s planes: max over shifts of |⟨a, shift(b)⟩| / (‖a‖‖b‖). Filters are
    /// learned only up to a shift and a sign, so this is how a learned filter is matched to a planted one.
    /// </summary>
    public static double MaxShiftedCorrelation(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int s)
    {
        double na = 0, nb = 0, best = 0;
        for (int i = 0; i < a.Length; i++) (na, nb) = (na + (double)a[i] * a[i], nb + (double)b[i] * b[i]);
        double norms = Math.Sqrt(na * nb);
        if (norms == 0) return 0;
        for (int du = -(s - 1); du < s; du++)
            for (int dv = -(s - 1); dv < s; dv++)
            {
                double sum = 0;
                for (int u = Math.Max(0, -du); u < Math.Min(s, s - du); u++)
                    for (int v = Math.Max(0, -dv); v < Math.Min(s, s - dv); v++)
                        sum += (double)a[u * s + v] * b[(u + du) * s + v + dv];
                best = Math.Max(best, Math.Abs(sum) / norms);
            }
        return best;
    }

    /// <summary>The strongest orientation bin's share of filter k's non-DC spectral energy, over all its planes.</summary>
    public static double OrientationConcentration(FilterBank filters, int k)
    {
        ArgumentNullException.ThrowIfNull(filters);
        int n = Math.Max(SpectrumSize, filters.Size);
        var bins = new double[OrientationBins];
        for (int c = 0; c < filters.Inputs; c++)
        {
            ReadOnlySpan<float> plane = filters.ReadPlane(k, c);
            for (int u = 0; u < n; u++)
                for (int v = 0; v < n; v++)
                {
                    if (u == 0 && v == 0) continue;
                    // Frequencies in (−n/2, n/2]; (u, v) and (−u, −v) share an orientation, so θ is taken mod π.
                    int fu = u <= n / 2 ? u : u - n, fv = v <= n / 2 ? v : v - n;
                    double re = 0, im = 0;
                    for (int i = 0; i < filters.Size; i++)
                        for (int j = 0; j < filters.Size; j++)
                        {
                            double phase = -2 * Math.PI * ((double)u * i + (double)v * j) / n;
                            float x = plane[i * filters.Size + j];
                            re += x * Math.Cos(phase);
                            im += x * Math.Sin(phase);
                        }
                    double theta = Math.Atan2(fu, fv);
                    if (theta < 0) theta += Math.PI;
                    int bin = Math.Min(OrientationBins - 1, (int)(theta / Math.PI * OrientationBins + 0.5) % OrientationBins);
                    bins[bin] += re * re + im * im;
                }
        }
        double total = bins.Sum();
        return total > 0 ? bins.Max() / total : 0;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return double.NaN;
        double[] sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
