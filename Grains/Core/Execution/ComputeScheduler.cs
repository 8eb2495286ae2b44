namespace Distributed.Grains.Execution;

/// <summary>
/// Runs a silo's numeric work off the grain scheduler with bounded parallelism: at most <see cref="Slots"/> pieces of
/// work at once on the thread pool, queued in arrival order beyond that. Orleans' own turns (status calls, membership
/// pings) then always find threads, however many shards this silo hosts.
/// </summary>
public sealed class ComputeScheduler : IDisposable
{
    private readonly SemaphoreSlim _slots;

    public ComputeScheduler(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        Slots = slots;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Pieces of work allowed to run at once (one per core by default).</summary>
    public int Slots { get; }

    /// <summary>Runs <paramref name="work"/> on the thread pool once a slot is free; the grain awaits without blocking its turn.</summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Task.Run leaves the activation's scheduler: Orleans would otherwise run this on the grain's turn.
            return await Task.Run(() => work(cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
