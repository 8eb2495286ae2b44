using System.CommandLine;
using Distributed.Grains.Hosting;

// A thin host: flags, appsettings.json and the environment choose clustering, ports, storage and telemetry.
var flags = HostingFlags.ForSilo();
var root = new RootCommand("Distributed silo: hosts image shards and training coordinators of an Orleans cluster.");
flags.AddTo(root);
root.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
{
    try
    {
        return await SiloHost.RunAsync(flags.Load(result), cancellationToken);
    }
    catch (HostOptionsException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    catch (SiloStartException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
// The generic host handles SIGTERM itself and needs longer than System.CommandLine's default grace to leave the cluster.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
