using System.CommandLine;

namespace Distributed.Client.Commands;

/// <summary>Every console command, in the order `--help` lists them. Each command lives in its own file.</summary>
internal static class CommandCatalog
{
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("Distributed: learn Deconvolutional Networks (convolutional sparse coding) from images, on one machine or an Orleans cluster.");
        foreach (Command command in All()) root.Subcommands.Add(command);
        return root;
    }

    private static IEnumerable<Command> All()
    {
        yield return TrainCommand.Create();
        yield return InferCommand.Create();
        yield return StatusCommand.Create();
        yield return WatchCommand.Create();
        yield return CancelCommand.Create();
        yield return ListCommand.Create();
        yield return FetchCommand.Create();
        yield return VisualizeCommand.Create();
        yield return SummaryCommand.Create();
        yield return BenchCommand.Create();
    }
}
