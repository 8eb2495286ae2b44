using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

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

    /// <summary>
    /// Parses and runs <paramref name="args"/>. A command line that does not parse (unknown flag or command, missing
    /// or malformed value) is a user error like any other: its first error as one line on stderr, exit code 2 —
    /// not System.CommandLine's default of every error plus the help text and exit code 1.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration? configuration = null)
    {
        configuration ??= new InvocationConfiguration();
        ParseResult parsed = CreateRoot().Parse(args);
        if (parsed.Action is ParseErrorAction && parsed.Errors.Count > 0)
        {
            // An unknown word explains the rest ("required command was not provided" after a typo): name it first.
            ParseError first = parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains(t, StringComparison.Ordinal))) ?? parsed.Errors[0];
            string more = parsed.Errors.Count > 1 ? $" (and {parsed.Errors.Count - 1} more)" : "";
            configuration.Error.WriteLine($"{CommandPath(parsed)}: {OneLine(first.Message)}{more}; see --help.");
            return 2;
        }
        // The commands report their own errors; this is the net under them, so that a user error no command expected
        // is still one line and exit code 2, while a bug still shows its stack trace (exit code 1, as before).
        configuration.EnableDefaultExceptionHandler = false;
        try
        {
            return await parsed.InvokeAsync(configuration);
        }
        catch (Exception e) when (UserErrors.IsUserError(e))
        {
            configuration.Error.WriteLine($"{CommandPath(parsed)}: {UserErrors.Describe(e)}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            configuration.Error.WriteLine($"{CommandPath(parsed)}: cancelled.");
            return 130;
        }
        catch (Exception e)
        {
            configuration.Error.WriteLine(e.ToString());
            return 1;
        }
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (SymbolResult? s = parsed.CommandResult; s is not null; s = s.Parent)
            if (s is CommandResult { Command: not RootCommand } c) names.Insert(0, c.Command.Name);
        return names.Count == 0 ? "distributed" : string.Join(' ', names);
    }

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');

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
