using System.Net;
using System.Net.Sockets;
using System.Text;
using Distributed.EndToEnd.Tests.Support;

namespace Distributed.EndToEnd.Tests;

/// <summary>
/// Real processes: a password-protected Redis and one silo advertising 127.0.0.1, then Client processes holding the
/// cluster secret, another secret, or the Redis password but not the gateway's secret. Each mechanism must refuse on
/// its own: the ports bind loopback only, Redis refuses a client without the password, and the gateway refuses a
/// client that got past Redis but cannot prove the secret.
/// </summary>
public sealed class AccessControlTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [RedisFact]
    public async Task Cluster_SecretAndListenAddress_OnlyTheSecretHolderGetsIn()
    {
        RedisFactAttribute.RequireRedis();
        string work = Directory.CreateTempSubdirectory("distributed-access-").FullName;
        try
        {
            await using LocalCluster cluster = await LocalCluster.StartAsync(1, work);
            LocalCluster.Silo silo = cluster.Silos[0];

            // --advertise 127.0.0.1 binds 127.0.0.1 alone (it used to bind every interface).
            Assert.True(await AcceptsAsync(IPAddress.Loopback, silo.GatewayPort));
            Assert.False(await AcceptsAsync(IPAddress.Parse("127.0.0.2"), silo.GatewayPort), "the gateway port answers on 127.0.0.2");
            Assert.False(await AcceptsAsync(IPAddress.Parse("127.0.0.2"), silo.SiloPort), "the silo port answers on 127.0.0.2");

            // Redis answers nothing but AUTH to a client without the password.
            Assert.StartsWith("-NOAUTH", await RedisAnswerAsync(cluster.RedisEndpoint!, "PING"));

            // The secret holder lists the (empty) job table.
            (int ok, string okLog) = await RunClientAsync(work, "client-ok", ["list", .. cluster.ClientArguments]);
            Assert.True(ok == 0, $"`list` with the secret exited {ok}.\n{okLog}");

            // Another secret: Redis refuses it before any gateway is tried.
            string wrongFile = Path.Combine(work, "wrong.secret");
            await File.WriteAllTextAsync(wrongFile, "not-the-cluster-secret-0123456789\n");
            string[] wrongSecret = [.. cluster.ClientArguments.Take(cluster.ClientArguments.Count - 2), "--secret-file", wrongFile, "--connect-attempts", "1"];
            (int wrong, string wrongLog) = await RunClientAsync(work, "client-wrong", ["list", .. wrongSecret]);
            Assert.True(wrong == 2, $"`list` with another secret exited {wrong}.\n{wrongLog}");
            Assert.DoesNotContain("Unhandled exception", wrongLog);

            // The Redis password in the address but the wrong secret: past Redis, refused at the gateway.
            string[] pastRedis = ["--cluster", $"redis://:{cluster.Secret}@{cluster.RedisEndpoint}", .. wrongSecret.Skip(2)];
            (int gateway, string gatewayLog) = await RunClientAsync(work, "client-gateway", ["list", .. pastRedis]);
            Assert.True(gateway == 2, $"`list` past Redis with another secret exited {gateway}.\n{gatewayLog}");
            Assert.Contains("refused this client", gatewayLog);
            Assert.Contains("refused a connection", silo.Process.Log());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Log)> RunClientAsync(string work, string name, string[] arguments)
    {
        using ChildProcess client = ChildProcess.Start(name, Programs.DotNet, ["exec", Programs.Client, .. arguments], work);
        Assert.True(await client.WaitForExitAsync(Patience), $"`{string.Join(' ', arguments)}` did not finish in {Patience}.\n{client.Tail()}");
        return (client.ExitCode, client.Log());
    }

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var probe = new TcpClient();
        try
        {
            await probe.ConnectAsync(address, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<string> RedisAnswerAsync(string endpoint, string command)
    {
        string[] parts = endpoint.Split(':');
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Parse(parts[0]), int.Parse(parts[1]));
        NetworkStream stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        byte[] buffer = new byte[256];
        int read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
