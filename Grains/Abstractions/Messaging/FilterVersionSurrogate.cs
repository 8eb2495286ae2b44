using Distributed.Compute.Training;

namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// <see cref="FilterVersion"/> on the wire: Compute stays free of Orleans, so its value type travels through this
/// surrogate, field by field (never as its packed cache key, whose layout is Compute's business).
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.filter-version")]
public struct FilterVersionSurrogate
{
    [Id(0)] public int Layer { get; set; }
    [Id(1)] public int Epoch { get; set; }
    [Id(2)] public int Step { get; set; }
    [Id(3)] public bool Frozen { get; set; }
}

/// <summary>Lets Orleans serialize and copy <see cref="FilterVersion"/> wherever a message holds one.</summary>
[RegisterConverter]
public sealed class FilterVersionConverter : IConverter<FilterVersion, FilterVersionSurrogate>
{
    public FilterVersion ConvertFromSurrogate(in FilterVersionSurrogate surrogate) => FilterVersion.FromParts(surrogate.Layer, surrogate.Epoch, surrogate.Step, surrogate.Frozen);

    public FilterVersionSurrogate ConvertToSurrogate(in FilterVersion value) => new() { Layer = value.Layer, Epoch = value.Epoch, Step = value.Step, Frozen = value.IsFrozen };
}
