namespace Distributed.Grains.Execution;

/// <summary>
/// Runs a silo's numeric work off the grain scheduler on a task scheduler that lets at most <see cref="Slots"/> tasks
/// run at once. The work's own <c>Parallel.For</c> inherits it (TaskScheduler.Current), so all shards of a silo
/// together use <see cref="Slots"/> threads, and Orleans' turns (status calls, membership pings) always find one.
/// </summary>
public sealed class ComputeScheduler
{
    private readonly TaskScheduler _scheduler;

    public ComputeScheduler(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        Slots = slots;
        _scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, slots).ConcurrentScheduler;
    }

    /// <summary>
    /// The key of the second scheduler, for tile steps (<c>TileGrain</c>): an image's owner waits for its tiles'
    /// round while holding a slot of the first, so steps queued behind it there could wait forever; on their own
    /// scheduler, with as many slots, they cannot, and --compute-slots still bounds them.
    /// </summary>
    public const string TileSteps = "tile-steps";

    /// <summary>Threads numeric work may occupy at once (one per core by default).</summary>
    public int Slots { get; }

    /// <summary>Runs <paramref name="work"/> on the bounded scheduler; the grain awaits without holding its turn.</summary>
    public Task<T> RunAsync<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Task.Factory.StartNew(() => work(cancellationToken), cancellationToken, TaskCreationOptions.DenyChildAttach, _scheduler);
    }
}
