using System.Globalization;
using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Client.Commands;

/// <summary>Results that are valid arithmetic but almost surely not what the user wanted, said as warnings.</summary>
internal static class RunWarnings
{
    /// <summary>One warning per layer of a finished training run whose maps ended all zero.</summary>
    public static IEnumerable<string> ZeroMaps(TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        foreach (LayerResult layer in result.Layers)
            if (ZeroMaps(layer.Layer, layer.Final, result.Spec.Layers[layer.Layer].Lambda) is { } warning)
                yield return warning;
    }

    /// <summary>
    /// Every coefficient of layer <paramref name="layer"/> (0-based) is zero, so its reconstruction is blank and its
    /// PSNR meaningless. Either λ is so small that no coefficient pays for its sparsity cost (z = 0 is then the exact
    /// minimiser: raise λ), or so large that the float32 arithmetic of the solver breaks down (lower it). λ = 1
    /// separates the two: on unit-RMS inputs, maps vanish for real only well below it (the default is 0.5).
    /// </summary>
    public static string? ZeroMaps(int layer, InferenceTotals totals, double lambda)
    {
        if (totals.Coefficients == 0 || totals.Nonzeros != 0) return null;
        string l = lambda.ToString("G4", CultureInfo.InvariantCulture);
        return lambda < 1
            ? $"layer {layer + 1}: every map coefficient is zero, so the reconstruction is blank: with λ = {l} no coefficient pays for its sparsity cost; raise --lambda (default 0.5)."
            : $"layer {layer + 1}: every map coefficient is zero, so the reconstruction is blank: λ = {l} is far too large for the solver's float arithmetic; lower --lambda (default 0.5).";
    }
}
