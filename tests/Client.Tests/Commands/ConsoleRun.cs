using System.CommandLine;
using Distributed.Client.Commands;

namespace Distributed.Client.Tests.Commands;

/// <summary>
/// Runs the console in-process, as a user would from the shell, capturing stdout and stderr. Runs are serialised:
/// Spectre.Console allows one live display (the training progress bar) per process, and xunit runs test classes in
/// parallel.
/// </summary>
internal static class ConsoleRun
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        await OneAtATime.WaitAsync();
        try
        {
            int exit = await CommandCatalog.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error });
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            OneAtATime.Release();
        }
    }
}
