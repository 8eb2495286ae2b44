using System.CommandLine;
using Distributed.Client.Cluster;
using Distributed.Client.Commands;

namespace Distributed.Client.Engines;

/// <summary>The flags that choose and configure an engine, shared by `train` and `infer`.</summary>
internal sealed class EngineOptions
{
    public const string DefaultEngine = "distributed";

    public Option<int> Threads { get; } = new("--threads") { Description = "Threads in this process: images in parallel, and spare threads inside an image (fewer images than threads) (0: all cores).", DefaultValueFactory = _ => 0 };

    public ClusterFlags Cluster { get; } = new();

    public void AddTo(Command command)
    {
        command.Options.Add(Threads);
        command.Options.Add(Cluster.Shards);
        Cluster.AddTo(command);
    }

    public Task<ITrainingEngine> CreateAsync(ParseResult r, string engine, CancellationToken cancellationToken) => engine switch
    {
        "serial" => Task.FromResult<ITrainingEngine>(new SerialEngine(1, r.GetValue(Threads))),
        "distributed" => CreateDistributedAsync(r, cancellationToken),
        _ => throw new UserException($"--engine: '{engine}'; allowed serial, distributed."),
    };

    private async Task<ITrainingEngine> CreateDistributedAsync(ParseResult r, CancellationToken cancellationToken) =>
        await Cluster.CreateEngineAsync(r, cancellationToken);
}
