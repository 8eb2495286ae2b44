using System.Globalization;

namespace Distributed.Compute;

/// <summary>
/// An invalid training spec or input. <see cref="Field"/> names the offending field as the spec's JSON spells it
/// (<c>fista.maxIterations</c>, <c>layers.lambda</c>, <c>solver</c>) or a host-level input (<c>images</c>); the message
/// uses the same name, so a host that knows its own spelling of the field (a command-line flag) can substitute it.
/// </summary>
public sealed class SpecException(string message, string field) : ArgumentException(message)
{
    public string Field { get; } = field;

    /// <summary>"<paramref name="field"/> = value; allowed <paramref name="allowed"/>." on that field.</summary>
    public static SpecException OutOfRange(string field, IFormattable value, string allowed) =>
        new($"{field} = {value.ToString(null, CultureInfo.InvariantCulture)}; allowed {allowed}.", field);

    /// <summary>Throws unless <paramref name="min"/> ≤ value ≤ <paramref name="max"/>.</summary>
    public static void CheckRange(string field, int value, int min, int max)
    {
        if (value < min || value > max) throw OutOfRange(field, value, $"{min}..{max}");
    }

    /// <summary>Throws unless the value is finite and at least <paramref name="min"/> (strictly above it when <paramref name="strict"/>).</summary>
    public static void CheckFinite(string field, double value, double min, bool strict)
    {
        bool ok = strict ? value > min : value >= min;
        if (!ok || double.IsInfinity(value))
            throw OutOfRange(field, value, $"a finite number {(strict ? ">" : "≥")} {min.ToString(CultureInfo.InvariantCulture)}");
    }
}
