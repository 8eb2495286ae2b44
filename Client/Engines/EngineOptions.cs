using System.CommandLine;
using Distributed.Client.Commands;

namespace Distributed.Client.Engines;

/// <summary>The flags that choose and configure an engine, shared by `train` and `infer`.</summary>
internal sealed class EngineOptions
{
    public const string DefaultEngine = "serial";

    public Option<int> Threads { get; } = new("--threads") { Description = "Images inferred in parallel in this process (0: all cores).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command) => command.Options.Add(Threads);

    public Task<ITrainingEngine> CreateAsync(ParseResult r, string engine, CancellationToken cancellationToken) => engine switch
    {
        "serial" => Task.FromResult<ITrainingEngine>(new SerialEngine(1, r.GetValue(Threads))),
        _ => throw new UserException($"--engine: '{engine}'; allowed serial."),
    };
}
