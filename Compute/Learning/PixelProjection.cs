using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Learning;

/// <summary>
/// A deconv network's filters seen in pixels (Zeiler et al. 2010, Fig. 3): the image a single unit of layer l's map k
/// synthesises through every layer below. Synthesis is y_c = Σ_k valid(z_k ∗ f_{k,c}), so a one-hot z at layer l gives
/// layer l−1 the planes f_l[k, c]; those, synthesised through layer l−1, give Σ_c f_l[k, c] ∗ P_{l−1}[c] — a full
/// convolution, growing the footprint to Σ_l s_l − (l − 1) pixels. Layer l's input scale multiplies every projection of
/// that layer equally, so it is left out (the montage scales each filter on its own). Cost: K_l · C_l full convolutions
/// of footprint-sized planes per layer, negligible next to training.
/// </summary>
public static class PixelProjection
{
    /// <summary>
    /// Layer <paramref name="layer"/>'s (0-based) filters in pixels: [K_layer, image planes, S, S] with S the footprint.
    /// <paramref name="layers"/> are the network's filter banks, bottom first; layer 0 is returned as is (a copy).
    /// </summary>
    public static FilterBank Project(IReadOnlyList<FilterBank> layers, int layer)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layer < 0 || layer >= layers.Count) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the network has {layers.Count} layers.");
        FilterBank below = layers[0].Clone();
        for (int l = 1; l <= layer; l++)
        {
            FilterBank f = layers[l];
            if (f.Inputs != below.Maps)
                throw new ArgumentException($"layer {l + 1} reads {f.Inputs} planes but layer {l} has {below.Maps} maps.", nameof(layers));
            int size = f.Size + below.Size - 1;
            var projected = new FilterBank(f.Maps, below.Inputs, size);
            var full = new float[size * size];
            for (int k = 0; k < f.Maps; k++)
                for (int c = 0; c < f.Inputs; c++)
                {
                    ReadOnlySpan<float> plane = f.ReadPlane(k, c);
                    if (IsZero(plane)) continue; // not connected
                    for (int i = 0; i < below.Inputs; i++)
                    {
                        Convolution2D.ConvolveFull(plane, f.Size, f.Size, below.ReadPlane(c, i), below.Size, full);
                        Span<float> target = projected.Plane(k, i);
                        for (int j = 0; j < full.Length; j++) target[j] += full[j];
                    }
                }
            below = projected;
        }
        return below;
    }

    private static bool IsZero(ReadOnlySpan<float> plane)
    {
        foreach (float v in plane) if (v != 0) return false;
        return true;
    }
}
