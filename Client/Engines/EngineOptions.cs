using System.CommandLine;
using Distributed.Client.Cluster;
using Distributed.Client.Commands;

namespace Distributed.Client.Engines;

/// <summary>The flags that choose and configure an engine, shared by `train` and `infer`.</summary>
internal sealed class EngineOptions
{
    public const string DefaultEngine = "distributed";

    public Option<int> Threads { get; } = new("--threads") { Description = "Threads in this process: images in parallel, and spare threads inside an image (fewer images than threads) (0: all cores).", DefaultValueFactory = _ => 0 };

    public Option<string> ShardMemory { get; } = new("--shard-memory")
    {
        Description = "Serial engine: memory budget per shard for decoded images and kept maps, e.g. 512M or 4G; images beyond it are re-read from their files (default: a quarter of this machine's memory).",
    };

    public ClusterFlags Cluster { get; } = new();

    public void AddTo(Command command)
    {
        command.Options.Add(Threads);
        command.Options.Add(ShardMemory);
        command.Options.Add(Cluster.Shards);
        Cluster.AddTo(command);
    }

    public Task<ITrainingEngine> CreateAsync(ParseResult r, string engine, CancellationToken cancellationToken) => engine switch
    {
        "serial" => Task.FromResult<ITrainingEngine>(new SerialEngine(1, r.GetValue(Threads), ShardMemoryBytes(r))),
        "distributed" => CreateDistributedAsync(r, cancellationToken),
        _ => throw new UserException($"--engine: '{engine}'; allowed serial, distributed."),
    };

    /// <summary>--shard-memory in bytes, 0 when not given (the default applies).</summary>
    public long ShardMemoryBytes(ParseResult r) => r.GetValue(ShardMemory) is { Length: > 0 } text ? Compute.Training.ShardMemory.Parse(text) : 0;

    private async Task<ITrainingEngine> CreateDistributedAsync(ParseResult r, CancellationToken cancellationToken) =>
        await Cluster.CreateEngineAsync(r, cancellationToken);
}
