using System.CommandLine;
using Distributed.Client.Commands;

namespace Distributed.Client.Tests.Commands;

/// <summary>Runs the console in-process, as a user would from the shell, capturing stdout and stderr.</summary>
internal static class ConsoleRun
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await CommandCatalog.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
