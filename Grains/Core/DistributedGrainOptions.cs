namespace Distributed.Grains;

/// <summary>Silo-side settings the grains read (the host maps its options onto these).</summary>
public sealed record DistributedGrainOptions
{
    /// <summary>The only folder shards may read images from by path; null refuses path loading.</summary>
    public string? DataRoot { get; init; }

    /// <summary>Numeric work items run at once on this silo.</summary>
    public int ComputeSlots { get; init; } = Environment.ProcessorCount;

    /// <summary>Longest a wait call (shard work, job status) holds before answering "not yet": well under the 30 s response timeout.</summary>
    public TimeSpan WaitWindow { get; init; } = TimeSpan.FromSeconds(5);
}
