using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Distributed.Grains.Messaging.Payloads;

namespace Distributed.Grains.Jobs;

/// <summary>
/// Keeps running jobs running when their coordinator's silo dies. A coordinator resumes from its last checkpoint when
/// it is activated again (<see cref="TrainingJobGrain"/>), but nothing calls a job that nobody watches; so every
/// <see cref="DistributedGrainOptions.KeeperPeriod"/> each silo asks the coordinator of every job the registry lists
/// as running for its status — a cheap, interleaving call that re-activates a lost coordinator on a live silo — and
/// hands the registry the answer, which also repairs an entry whose last update was lost with the registry's silo.
/// Runs on every silo, so it lasts as long as any silo does.
/// </summary>
internal sealed class JobKeeper(IGrainFactory grains, DistributedGrainOptions options, ILogger<JobKeeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.KeeperPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await KeepAsync();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The silo is still joining or leaving, or a job's or the registry's silo just died: the next tick
                // tries again. The keeper itself must outlive every such failure.
                JobLog.KeeperRoundFailed(logger, TransientFaults.IsTransient(e) ? LogLevel.Debug : LogLevel.Warning, e, options.KeeperPeriod);
            }
        }
    }

    private async Task KeepAsync()
    {
        IJobRegistryGrain registry = grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key);
        foreach (JobSummary job in await registry.ListAsync())
        {
            if (job.State != JobState.Running) continue;
            JobStatus status = await grains.GetGrain<ITrainingJobGrain>(job.Job).GetStatusAsync();
            if (status.State != job.State) await registry.UpdateAsync(JobSummary.From(status));
        }
    }
}
