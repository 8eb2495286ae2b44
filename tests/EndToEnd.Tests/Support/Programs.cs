using System.Reflection;

namespace Distributed.EndToEnd.Tests.Support;

/// <summary>
/// Where the programs under test are: the Silo and Client of this repository, built in this test assembly's
/// configuration (the project references build them before the tests), run with the dotnet host that runs the tests.
/// </summary>
public static class Programs
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Configuration { get; } =
        typeof(Programs).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string Silo => Program("Silo", "Distributed.Silo.dll");

    public static string Client => Program("Client", "Distributed.Client.dll");

    /// <summary>The dotnet host: the one running this test, else the one on the PATH.</summary>
    public static string DotNet { get; } = FindDotNet();

    /// <summary>
    /// <c>redis-server</c> from the PATH, or null when it is not installed (or DISTRIBUTED_E2E_CLUSTERING=localhost
    /// asks for the localhost variant).
    /// </summary>
    public static string? RedisServer { get; } =
        Environment.GetEnvironmentVariable("DISTRIBUTED_E2E_CLUSTERING") == "localhost" ? null : FindOnPath("redis-server");

    private static string Program(string project, string dll)
    {
        string path = Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: build it first (dotnet build {project} -c {Configuration}).");
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Distributed.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Distributed.sln above {AppContext.BaseDirectory}.");
    }

    private static string FindDotNet()
    {
        foreach (string? candidate in (string?[])[Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"), Environment.ProcessPath])
            if (candidate is not null && Path.GetFileNameWithoutExtension(candidate) == "dotnet" && File.Exists(candidate)) return candidate;
        return FindOnPath("dotnet") ?? throw new FileNotFoundException("no dotnet host on the PATH.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
