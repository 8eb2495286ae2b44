using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Grains.Jobs;

/// <summary>Every job's latest summary, for `list`. Coordinators publish on each state change and epoch.</summary>
internal sealed class JobRegistryGrain(
    [PersistentState("registry", StorageNames.Checkpoints)] IPersistentState<JobRegistryState> state) : Grain, IJobRegistryGrain
{
    public async Task UpdateAsync(JobSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        state.State.Jobs[summary.Job] = summary;
        await state.WriteStateAsync();
    }

    public Task<JobSummary[]> ListAsync() =>
        Task.FromResult(state.State.Jobs.Values.OrderBy(j => j.SubmittedUtc).ThenBy(j => j.Job, StringComparer.Ordinal).ToArray());
}

[GenerateSerializer, Alias("distributed.job-registry-state")]
public sealed class JobRegistryState
{
    [Id(0)] public Dictionary<string, JobSummary> Jobs { get; set; } = new(StringComparer.Ordinal);
}
