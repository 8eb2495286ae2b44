using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Distributed.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distributed.EndToEnd.Tests.Support;

/// <summary>
/// A cluster of real Silo processes on loopback ports: Redis membership and Redis grain storage when
/// <c>redis-server</c> is installed (a private Redis on a free port, password-protected and appending every write to
/// disk, so it can be killed and restarted without losing the cluster), localhost clustering with memory storage
/// otherwise. Silos and clients prove a cluster secret (a file only the owner reads). Disposing it kills every process
/// it started.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(120);

    private readonly List<ChildProcess> _processes = [];
    private readonly string _logs;
    private readonly string _id = $"e2e-{Guid.NewGuid():N}"[..16];
    private IHost? _client;
    private ChildProcess? _redis;
    private int _redisPort;
    private int _redisStarts;
    private string[] _membership = [];

    private LocalCluster(string logs, bool redis)
    {
        _logs = logs;
        UsesRedis = redis;
        Secret = Distributed.Grains.Hosting.Security.ClusterSecret.Generate();
        SecretFile = Path.Combine(logs, $"{_id}.secret");
        File.WriteAllText(SecretFile, Secret + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The cluster secret every silo and client of this cluster proves (also the Redis password).</summary>
    public string Secret { get; }

    /// <summary>The file holding <see cref="Secret"/> (<c>--secret-file</c>).</summary>
    public string SecretFile { get; }

    /// <summary>The Redis address, host:port (null without Redis).</summary>
    public string? RedisEndpoint => UsesRedis ? $"127.0.0.1:{_redisPort}" : null;

    /// <summary>Redis membership and storage (durable across a silo's death); false: localhost and memory.</summary>
    public bool UsesRedis { get; }

    public IReadOnlyList<Silo> Silos { get; private set; } = [];

    /// <summary>The <c>--cluster</c> value (and ids) a Client process passes.</summary>
    public IReadOnlyList<string> ClientArguments { get; private set; } = [];

    public string Description => UsesRedis ? $"{Silos.Count} silos, Redis membership and storage ({ClientArguments[1]})" : $"{Silos.Count} silos, localhost clustering";

    public sealed record Silo(int Index, int SiloPort, int GatewayPort, ChildProcess Process);

    public static async Task<LocalCluster> StartAsync(int silos, string logs)
    {
        var cluster = new LocalCluster(logs, Programs.RedisServer is not null);
        try
        {
            await cluster.StartProcessesAsync(silos);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>An Orleans client of this cluster in the test process, to watch jobs (connected once, on first use).</summary>
    public async Task<IClusterClient> ClientAsync()
    {
        if (_client is null)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(c => c.UseDistributedClient(ClientOptions()));
            IHost host = builder.Build();
            await host.StartAsync();
            _client = host;
        }
        return _client.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>The silo whose silo-to-silo port is <paramref name="port"/>.</summary>
    public Silo ByPort(int port) => Silos.Single(s => s.SiloPort == port);

    public string Logs(int lines = 30) => string.Join("\n", _processes.Select(p => p.Tail(lines)));

    /// <summary>SIGKILLs Redis: the storage outage under test (its append-only file keeps what it acknowledged).</summary>
    public void KillRedis()
    {
        if (_redis is null) throw new InvalidOperationException("this cluster has no Redis.");
        _redis.KillHard();
    }

    /// <summary>Starts Redis again on the same port, password and data folder, and waits until it listens.</summary>
    public async Task RestartRedisAsync()
    {
        if (_redis is null) throw new InvalidOperationException("this cluster has no Redis.");
        await StartRedisAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _client.StopAsync(stopping.Token);
            }
            catch (OperationCanceledException)
            {
                // The silos are about to be killed anyway.
            }
            _client.Dispose();
        }
        // Silos first, Redis last; each is killed with its process tree.
        for (int i = _processes.Count - 1; i >= 0; i--) _processes[i].Dispose();
    }

    private async Task StartProcessesAsync(int count)
    {
        int[] ports = FreePorts(2 * count + 1);
        _redisPort = ports[^1];
        string redis = $"127.0.0.1:{ports[^1]}";
        string[] membership;
        if (UsesRedis)
        {
            await StartRedisAsync();
            membership = ["--cluster", $"redis://{redis}", "--storage", "redis", "--advertise", "127.0.0.1"];
            ClientArguments = ["--cluster", $"redis://{redis}", "--cluster-id", _id, "--service-id", _id, "--secret-file", SecretFile];
        }
        else
        {
            membership = ["--cluster", "localhost", "--primary-silo-port", ports[0].ToString()];
            ClientArguments = ["--cluster", $"localhost:{ports[1]}", "--cluster-id", _id, "--service-id", _id, "--secret-file", SecretFile];
        }

        _membership = membership;
        var silos = new List<Silo>();
        for (int i = 0; i < count; i++)
        {
            silos.Add(StartSilo(i, ports[2 * i], ports[2 * i + 1]));
            // Localhost clustering: the others join through silo 0, so it must be up first.
            if (i == 0 && !UsesRedis) await WaitListeningAsync(silos[0].Process, silos[0].GatewayPort);
        }
        Silos = silos;
        foreach (Silo silo in silos) await WaitListeningAsync(silo.Process, silo.GatewayPort);
    }

    /// <summary>Starts one more silo (new ports) that joins the running cluster, and waits until its gateway listens.</summary>
    public async Task<Silo> AddSiloAsync()
    {
        int[] ports = FreePorts(2);
        Silo silo = StartSilo(Silos.Count, ports[0], ports[1]);
        Silos = [.. Silos, silo];
        await WaitListeningAsync(silo.Process, silo.GatewayPort);
        return silo;
    }

    private Silo StartSilo(int index, int siloPort, int gatewayPort)
    {
        ChildProcess process = Track(ChildProcess.Start($"silo-{index}", Programs.DotNet,
        [
            "exec", Programs.Silo, .. _membership,
            "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(),
            "--cluster-id", _id, "--service-id", _id, "--instance-id", $"silo-{index}", "--secret-file", SecretFile,
            // Three silos share this machine's cores with the client.
            "--compute-slots", "1",
        ], _logs));
        return new Silo(index, siloPort, gatewayPort, process);
    }

    /// <summary>
    /// Redis with the secret as its password (in a config file, not on a command line anyone can read), appending every
    /// write to disk before acknowledging it (<c>appendfsync always</c>), so a restart loses nothing a silo was told
    /// was stored.
    /// </summary>
    private async Task StartRedisAsync()
    {
        string data = Path.Combine(_logs, $"{_id}-redis");
        Directory.CreateDirectory(data);
        string config = Path.Combine(data, "redis.conf");
        File.WriteAllLines(config,
        [
            $"port {_redisPort}", "bind 127.0.0.1", $"dir {data}", "save \"\"",
            "appendonly yes", "appendfsync always", $"requirepass {Secret}",
        ]);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _redis = Track(ChildProcess.Start(_redisStarts++ == 0 ? "redis" : $"redis-{_redisStarts}", Programs.RedisServer!, [config], _logs));
        await WaitListeningAsync(_redis, _redisPort);
    }

    private DistributedHostOptions ClientOptions() => new()
    {
        Clustering = UsesRedis ? ClusteringMode.Redis : ClusteringMode.Localhost,
        Redis = UsesRedis ? ClientArguments[1]["redis://".Length..] : null,
        GatewayPort = UsesRedis ? 30000 : Silos[0].GatewayPort,
        ClusterId = _id,
        ServiceId = _id,
        ConnectAttempts = 10,
        Secret = Secret,
    };

    private ChildProcess Track(ChildProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>Polls until the process accepts TCP connections on <paramref name="port"/>; fails if it exits or takes too long.</summary>
    private static async Task WaitListeningAsync(ChildProcess process, int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited ({process.ExitCode}) before listening on {port}.\n{process.Tail()}");
            using (var probe = new TcpClient())
            {
                try
                {
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    // Not yet.
                }
            }
            if (clock.Elapsed > StartPatience) throw new TimeoutException($"{process.Name} did not listen on {port} within {StartPatience.TotalSeconds} s.\n{process.Tail()}");
            await Task.Delay(250);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (TcpListener l in listeners) l.Start();
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener l in listeners) l.Stop();
        }
    }
}
