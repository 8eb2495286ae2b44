namespace Distributed.Grains;

/// <summary>Named grain storage providers every silo registers (memory or Redis, per the host's options).</summary>
public static class StorageNames
{
    /// <summary>Coordinator state: spec, filters and progress, written each epoch.</summary>
    public const string Checkpoints = "checkpoints";

    /// <summary>Shard state: the uploaded images (or their paths), so a shard reactivated elsewhere can reload them.</summary>
    public const string Images = "images";
}
