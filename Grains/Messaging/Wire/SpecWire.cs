using System.Text.Json;
using System.Text.Json.Serialization;
using Distributed.Compute.Training;
using Distributed.Compute;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>
/// A <see cref="TrainingSpec"/> travels as JSON: every public property round-trips by construction, so a field the
/// spec gains later reaches the shards without a wire change (a hand-written surrogate would silently drop it).
/// </summary>
public static class SpecWire
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return JsonSerializer.Serialize(spec, Json);
    }

    /// <summary>The spec in <paramref name="json"/>, not yet validated; malformed JSON is a SpecException on "spec".</summary>
    public static TrainingSpec Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingSpec>(json, Json) ?? throw new SpecException("the spec is empty.", "spec");
        }
        catch (JsonException e)
        {
            throw new SpecException($"the spec is not valid JSON: {e.Message}", "spec");
        }
    }
}
