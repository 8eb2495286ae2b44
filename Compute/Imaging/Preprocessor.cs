using Distributed.Compute.Tensors;

namespace Distributed.Compute.Imaging;

/// <summary>Settings of <see cref="Preprocessor"/>; defaults are the 2010 toolbox's and SPORCO's.</summary>
public sealed record PreprocessOptions
{
    /// <summary>LCN: smallest local standard deviation divided by, in [0, 1] pixel units (1 grey level).</summary>
    public double StdFloor { get; init; } = LocalContrast.DefaultStdFloor;

    /// <summary>High-pass: λ of the Tikhonov low-pass (SPORCO's examples use 5).</summary>
    public double HighpassLambda { get; init; } = TikhonovFilter.DefaultLambda;

    /// <summary>High-pass: symmetric padding before the (circular) low-pass solve, in pixels.</summary>
    public int HighpassPad { get; init; } = TikhonovFilter.DefaultPad;

    public static PreprocessOptions Default { get; } = new();

    public void Validate()
    {
        SpecException.CheckFinite("preprocess.stdFloor", StdFloor, 0, strict: true);
        SpecException.CheckFinite("preprocess.highpassLambda", HighpassLambda, 0, strict: false);
        SpecException.CheckRange("preprocess.highpassPad", HighpassPad, 0, 4096);
    }
}

/// <summary>A preprocessed image set and the factor the whole set was multiplied by (1 when not rescaled).</summary>
public sealed record PreprocessedSet(IReadOnlyList<Tensor3> Images, float Scale);

/// <summary>
/// Image preprocessing before layer 1, on images already in [0, 1] (<see cref="ImageDecoder"/>). Every function is
/// pure: it returns new tensors and leaves its inputs alone.
/// <list type="bullet">
/// <item><see cref="Preprocessing.Lcn"/> (the 2010 toolbox): per-plane mean removal, <see cref="LocalContrast"/>
/// normalisation, then the whole set rescaled so its largest |value| is 1.</item>
/// <item><see cref="Preprocessing.Highpass"/> (SPORCO): each plane minus its Tikhonov low-pass
/// (<see cref="TikhonovFilter"/>); no mean removal, no rescale, so SPORCO's reference problem is posed exactly.</item>
/// <item><see cref="Preprocessing.None"/>: the pixels in [0, 1] as decoded.</item>
/// </list>
/// The per-image part (<see cref="ApplyToImage"/>) and the set's scale (<see cref="MaxAbs"/>, a max-reduction) are
/// exposed separately so an engine holding images on several machines can do the first where the images are.
/// </summary>
public static class Preprocessor
{
    public static PreprocessedSet Apply(IReadOnlyList<Tensor3> images, Preprocessing mode, PreprocessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var processed = new Tensor3[images.Count];
        for (int i = 0; i < images.Count; i++) processed[i] = ApplyToImage(images[i], mode, options);
        if (mode != Preprocessing.Lcn) return new PreprocessedSet(processed, 1f);
        float scale = RescaleFactor(processed);
        return new PreprocessedSet(Scale(processed, scale), scale);
    }

    /// <summary>The per-image part of <paramref name="mode"/>: everything but the whole-set rescale.</summary>
    public static Tensor3 ApplyToImage(Tensor3 image, Preprocessing mode, PreprocessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= PreprocessOptions.Default;
        options.Validate();
        return mode switch
        {
            Preprocessing.Lcn => LocalContrastNormalize(RemovePlaneMeans(image), options.StdFloor),
            Preprocessing.Highpass => Highpass(image, options.HighpassLambda, options.HighpassPad),
            Preprocessing.None => image.Clone(),
            _ => throw SpecException.OutOfRange("preprocessing", mode, "lcn, highpass, none"),
        };
    }

    /// <summary>Effectively computes out[p, i] = x[p, i] − mean_i x[p, i], each plane separately.</summary>
    public static Tensor3 RemovePlaneMeans(Tensor3 image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Tensor3 result = image.Clone();
        if (image.PlaneLength == 0) return result;
        for (int p = 0; p < image.Planes; p++)
        {
            Span<float> plane = result.Plane(p);
            double sum = 0;
            foreach (float v in plane) sum += v;
            float mean = (float)(sum / plane.Length);
            for (int i = 0; i < plane.Length; i++) plane[i] -= mean;
        }
        return result;
    }

    /// <summary><see cref="LocalContrast.Normalize"/> on every plane.</summary>
    public static Tensor3 LocalContrastNormalize(Tensor3 image, double stdFloor = LocalContrast.DefaultStdFloor)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new Tensor3(image.Planes, image.Rows, image.Cols);
        for (int p = 0; p < image.Planes; p++)
            LocalContrast.Normalize(image.ReadPlane(p), image.Rows, image.Cols, stdFloor, result.Plane(p));
        return result;
    }

    /// <summary>Each plane minus its <see cref="TikhonovFilter.Lowpass"/>: SPORCO's <c>tikhonov_filter(s, λ, npd)[1]</c>.</summary>
    public static Tensor3 Highpass(Tensor3 image, double lambda = TikhonovFilter.DefaultLambda, int pad = TikhonovFilter.DefaultPad)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new Tensor3(image.Planes, image.Rows, image.Cols);
        for (int p = 0; p < image.Planes; p++)
        {
            Span<float> plane = result.Plane(p);
            TikhonovFilter.Lowpass(image.ReadPlane(p), image.Rows, image.Cols, lambda, pad, plane);
            ReadOnlySpan<float> source = image.ReadPlane(p);
            for (int i = 0; i < plane.Length; i++) plane[i] = source[i] - plane[i];
        }
        return result;
    }

    /// <summary>max_i |x[i]| over one image (0 for an empty one); the per-shard half of the set's rescale.</summary>
    public static float MaxAbs(Tensor3 image)
    {
        ArgumentNullException.ThrowIfNull(image);
        float max = 0;
        foreach (float v in image.Data)
        {
            if (float.IsNaN(v)) throw new ArgumentException("the image holds NaN.", nameof(image));
            max = Math.Max(max, Math.Abs(v));
        }
        return max;
    }

    /// <summary>1 / max |value| over the whole set, or 1 when every value is 0.</summary>
    public static float RescaleFactor(IEnumerable<Tensor3> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        float max = 0;
        foreach (Tensor3 image in images) max = Math.Max(max, MaxAbs(image));
        return max > 0 ? 1f / max : 1f;
    }

    /// <summary>The set rescaled together so its largest |value| is 1: the toolbox's last step.</summary>
    public static IReadOnlyList<Tensor3> RescaleSet(IReadOnlyList<Tensor3> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Scale(images, RescaleFactor(images));
    }

    /// <summary>Effectively computes out[i] = factor · x[i] for every image.</summary>
    public static IReadOnlyList<Tensor3> Scale(IReadOnlyList<Tensor3> images, float factor)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = new Tensor3[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            Tensor3 scaled = images[i].Clone();
            Span<float> data = scaled.Span;
            for (int j = 0; j < data.Length; j++) data[j] *= factor;
            result[i] = scaled;
        }
        return result;
    }
}
