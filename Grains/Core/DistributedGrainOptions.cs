using Distributed.Compute.Imaging;

namespace Distributed.Grains;

/// <summary>Silo-side settings the grains read (the host maps its options onto these).</summary>
public sealed record DistributedGrainOptions
{
    /// <summary>The only folder shards may read images from by path; null refuses path loading.</summary>
    public string? DataRoot { get; init; }

    /// <summary>
    /// The largest image (pixels) and file (bytes) this silo decodes, whatever a job asks: a job's own limits (the
    /// console's --max-pixels) can lower these, never raise them. Defaults: the console's defaults.
    /// </summary>
    public ImageLoadOptions ImageLimits { get; init; } = ImageLoadOptions.Default;

    /// <summary>Numeric work items run at once on this silo.</summary>
    public int ComputeSlots { get; init; } = Environment.ProcessorCount;

    /// <summary>Longest a wait call (shard work, job status) holds before answering "not yet": well under the 30 s response timeout.</summary>
    public TimeSpan WaitWindow { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a coordinator keeps repeating a shard command whose silo is unreachable: long enough for membership to
    /// declare a dead silo dead (tens of seconds) and the shard to re-activate elsewhere.
    /// </summary>
    public TimeSpan FailoverPatience { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Pause between such repeats.</summary>
    public TimeSpan FailoverRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each silo touches the coordinators of running jobs, re-activating one lost with its silo.</summary>
    public TimeSpan KeeperPeriod { get; init; } = TimeSpan.FromSeconds(5);
}
